-- wrk script for the Intercom webhook load test (scripts/bench_webhooks.sh).
--
-- Every request is a distinct notification (thread number and a counter in its id), signed as
-- Intercom signs: X-Hub-Signature: sha1=<HMAC-SHA1 of the raw body keyed with the client
-- secret>. wrk's LuaJIT has no HMAC, so SHA-1 and HMAC are implemented below with LuaJIT's
-- `bit` library; `init` checks them against RFC 2202's test vectors and refuses to run if they
-- disagree. Mix: per conversation four events (created, assigned, admin reply, closed) with a
-- rising updated_at, and every tenth notification a contact update.
--
-- Environment: WEBHOOK_SECRET (default bench-secret), BENCH_RUN_TAG (default: the start time).
-- For the production rehearsal (bench/prodcheck), optionally:
--   REPEAT_EVERY=k   every k-th request re-sends an earlier notification (same id): Intercom's
--                    retries. Two wrk runs with the same BENCH_RUN_TAG send the same notifications
--                    (per thread number), so each is delivered to both web nodes.
--   RUN_NO           digits put before every conversation id, so that two runs share none.
--   FORWARDED_PROTO  sent as X-Forwarded-Proto, as the TLS-terminating proxy does.
--   ACK_DIR          each thread writes "<id> <status>" there for every 200 answer (the ids
--                    Intercom would count as delivered), in a file named after ACK_TAG and the
--                    thread.
-- At the end it prints one line the shell script parses:
--   webhook-bench: generated=<bodies built> accepted=<200 "accepted"> other=<any other answer>
--   p50_ms=… p99_ms=…
-- and, per thread, "webhook-thread: tid=<n> built=<distinct notifications> repeats=<re-sent>".

local bit = require("bit")
local band, bor, bxor, bnot = bit.band, bit.bor, bit.bxor, bit.bnot
local lshift, rshift, rol, tobit, tohex = bit.lshift, bit.rshift, bit.rol, bit.tobit, bit.tohex
local byte, char, rep, format, floor = string.byte, string.char, string.rep, string.format, math.floor
local concat = table.concat

-- SHA-1 (FIPS 180-4) -------------------------------------------------------------------------

local W = {}

local function be32(n)
  return char(band(rshift(n, 24), 255), band(rshift(n, 16), 255), band(rshift(n, 8), 255), band(n, 255))
end

local function sha1_raw(msg)
  local h0, h1, h2, h3, h4 =
    tobit(0x67452301), tobit(0xEFCDAB89), tobit(0x98BADCFE), tobit(0x10325476), tobit(0xC3D2E1F0)
  local bits = #msg * 8
  msg = msg .. "\128" .. rep("\0", (55 - #msg) % 64) .. be32(floor(bits / 4294967296)) .. be32(bits % 4294967296)
  for chunk = 1, #msg, 64 do
    for i = 0, 15 do
      local p = chunk + i * 4
      local a, b, c, d = byte(msg, p, p + 3)
      W[i] = bor(lshift(a, 24), lshift(b, 16), lshift(c, 8), d)
    end
    for i = 16, 79 do
      W[i] = rol(bxor(W[i - 3], W[i - 8], W[i - 14], W[i - 16]), 1)
    end
    local a, b, c, d, e = h0, h1, h2, h3, h4
    for i = 0, 79 do
      local f, k
      if i < 20 then
        f, k = bor(band(b, c), band(bnot(b), d)), 0x5A827999
      elseif i < 40 then
        f, k = bxor(b, c, d), 0x6ED9EBA1
      elseif i < 60 then
        f, k = bor(band(b, c), band(b, d), band(c, d)), 0x8F1BBCDC
      else
        f, k = bxor(b, c, d), 0xCA62C1D6
      end
      a, b, c, d, e = tobit(rol(a, 5) + f + e + k + W[i]), a, rol(b, 30), c, d
    end
    h0, h1, h2, h3, h4 = tobit(h0 + a), tobit(h1 + b), tobit(h2 + c), tobit(h3 + d), tobit(h4 + e)
  end
  return be32(h0) .. be32(h1) .. be32(h2) .. be32(h3) .. be32(h4)
end

local function hex(raw)
  return (raw:gsub(".", function(c) return format("%02x", byte(c)) end))
end

-- HMAC (RFC 2104) with the pads of one key computed once.
local function hmac_sha1_signer(key)
  if #key > 64 then key = sha1_raw(key) end
  key = key .. rep("\0", 64 - #key)
  local ipad, opad = {}, {}
  for i = 1, 64 do
    local k = byte(key, i)
    ipad[i], opad[i] = char(bxor(k, 0x36)), char(bxor(k, 0x5c))
  end
  ipad, opad = concat(ipad), concat(opad)
  return function(msg)
    return hex(sha1_raw(opad .. sha1_raw(ipad .. msg)))
  end
end

local function self_test()
  local vectors = {
    -- RFC 2202, HMAC-SHA-1 test cases 1, 2, 3, 6 and 7
    { rep("\11", 20), "Hi There", "b617318655057264e28bc0b6fb378c8ef146be00" },
    { "Jefe", "what do ya want for nothing?", "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79" },
    { rep("\170", 20), rep("\221", 50), "125d7342b9ac11cd91a39af48aa17b4f63f175d3" },
    { rep("\170", 80), "Test Using Larger Than Block-Size Key - Hash Key First",
      "aa4ae5e15272d00e95705637ce8a3b55ed402112" },
    { rep("\170", 80), "Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data",
      "e8e99d0f45237d786d6bbaa7965c7808bbff1a91" },
  }
  for n, v in ipairs(vectors) do
    local got = hmac_sha1_signer(v[1])(v[2])
    if got ~= v[3] then
      error(format("HMAC-SHA1 self-test %d failed: %s ~= %s", n, got, v[3]))
    end
  end
  if hex(sha1_raw("")) ~= "da39a3ee5e6b4b0d3255bfef95601890afd80709" then error("SHA-1 self-test failed") end
end

-- Notifications ------------------------------------------------------------------------------

local SECRET = os.getenv("WEBHOOK_SECRET") or "bench-secret"
local RUN = os.getenv("BENCH_RUN_TAG") or tostring(os.time())
local T0 = 1750000000
local STEPS = { "conversation.user.created", "conversation.admin.assigned", "conversation.admin.replied",
                "conversation.admin.closed" }

local CONVERSATION = [[{"type":"conversation","id":"%s","created_at":%d,"updated_at":%d,]]
  .. [["waiting_since":%s,"snoozed_until":null,"source":{"type":"conversation","id":"%s",]]
  .. [["delivered_as":"customer_initiated","subject":"","body":"<p>Hello, my withdrawal to ]]
  .. [[0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed is still pending after two hours.</p>",]]
  .. [["author":{"type":"user","id":"%s","name":"Bench Trader","email":"%s@example.com"},]]
  .. [["attachments":[],"url":null,"redacted":false},"contacts":{"type":"contact.list","contacts":]]
  .. [[[{"type":"contact","id":"%s","external_id":"%s"}]},"first_contact_reply":null,]]
  .. [["admin_assignee_id":%d,"team_assignee_id":0,"open":%s,"state":"%s","read":true,]]
  .. [["tags":{"type":"tag.list","tags":[]},"priority":"none","sla_applied":null,]]
  .. [["statistics":{"type":"conversation_statistics","time_to_assignment":0,]]
  .. [["first_admin_reply_at":%s,"last_admin_reply_at":%s,"last_contact_reply_at":%d,]]
  .. [["count_reopens":0,"count_assignments":1,"count_conversation_parts":%d},]]
  .. [["conversation_rating":null,"teammates":null,"title":null,"custom_attributes":{},]]
  .. [["topics":{},"ticket":null,"ai_agent":null,"ai_agent_participated":false}]]

local CONTACT = [[{"type":"contact","id":"%s","workspace_id":"benchworkspace","external_id":"%s",]]
  .. [["role":"user","email":"%s@example.com","name":"Bench Trader","created_at":%d,"updated_at":%d,]]
  .. [["custom_attributes":{"advanced_portal_url":"http://127.0.0.1/accounts/1/"}}]]

local ENVELOPE = [[{"type":"notification_event","app_id":"benchapp","id":"notif_%s_%d_%d",]]
  .. [["topic":"%s","created_at":%d,"delivery_attempts":1,"first_sent_at":%d,]]
  .. [["data":{"type":"notification_event_data","item":%s}}]]

local REPEAT_EVERY = tonumber(os.getenv("REPEAT_EVERY") or "0")
local FORWARDED_PROTO = os.getenv("FORWARDED_PROTO")
local ACK_DIR = os.getenv("ACK_DIR")
local RUN_NO = os.getenv("RUN_NO") or "" -- digits before each conversation id: runs do not share them

local sign, acks
local thread_no = 0 -- set in init from the global wrk's setup gives each thread
generated, accepted, duplicate, other, built, repeats = 0, 0, 0, 0, 0, 0

local function notification(n)
  local conversation_no = floor(n / 5)
  local external_id = format("bench-%s-%d-%d", RUN, thread_no, conversation_no)
  local contact_id = format("c-%s-%d-%d", RUN, thread_no, conversation_no)
  local step = n % 5
  local when = T0 + n
  local topic, item
  if step == 4 then
    topic = "contact.user.updated"
    item = format(CONTACT, contact_id, external_id, external_id, T0, when)
  else
    topic = STEPS[step + 1]
    local closed = step == 3
    local replied = step >= 2 and tostring(when) or "null"
    item = format(CONVERSATION, format("%s%d%09d", RUN_NO, thread_no, conversation_no), T0 + conversation_no % 1000, when,
      closed and "null" or tostring(when), tostring(n), contact_id, external_id, contact_id, external_id,
      step >= 1 and 5017691 or 0, closed and "false" or "true", closed and "closed" or "open",
      replied, replied, when, step + 1)
  end
  return format(ENVELOPE, RUN, thread_no, n, topic, when, when, item)
end

-- wrk hooks ----------------------------------------------------------------------------------

local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  self_test()
  sign = hmac_sha1_signer(SECRET)
  thread_no = tid
  if ACK_DIR then
    local name = format("%s/ack-%s-%s-%d.txt", ACK_DIR, RUN, os.getenv("ACK_TAG") or "wrk", thread_no)
    acks = assert(io.open(name, "w"))
    acks:setvbuf("line") -- wrk exits without closing the threads' files
  end
end

function request()
  local body
  generated = generated + 1
  if REPEAT_EVERY > 0 and built > 0 and generated % REPEAT_EVERY == 0 then
    body = notification(math.random(0, built - 1))
    repeats = repeats + 1
  else
    body = notification(built)
    built = built + 1
  end
  local headers = {
    ["Content-Type"] = "application/json",
    ["User-Agent"] = "intercom-parrot-service-client/1.0",
    ["X-Hub-Signature"] = "sha1=" .. sign(body),
  }
  if FORWARDED_PROTO then headers["X-Forwarded-Proto"] = FORWARDED_PROTO end
  return wrk.format("POST", nil, headers, body)
end

function response(status, headers, body)
  if status == 200 and acks then
    local id, state = body:match('"id": *"([^"]+)"'), body:match('"status": *"(%a+)"')
    if id then acks:write(id, " ", state or "?", "\n") end
  end
  if status == 200 and body:find('"accepted"', 1, true) then
    accepted = accepted + 1
  elseif status == 200 and body:find('"duplicate"', 1, true) then
    duplicate = duplicate + 1
  else
    other = other + 1
    if other <= 3 then io.stderr:write(format("unexpected answer %d: %s\n", status, body)) end
  end
end

function done(summary, latency, requests)
  local g, a, d, o = 0, 0, 0, 0
  for _, thread in ipairs(threads) do
    g, a, o = g + thread:get("generated"), a + thread:get("accepted"), o + thread:get("other")
    d = d + thread:get("duplicate")
    io.write(format("webhook-thread: tid=%d built=%d repeats=%d\n", thread:get("tid"), thread:get("built"),
      thread:get("repeats")))
  end
  io.write(format("webhook-bench: generated=%d accepted=%d other=%d duplicate=%d p50_ms=%.2f p99_ms=%.2f\n",
    g, a, o, d, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
