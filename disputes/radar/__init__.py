"""The resolution radar: which accounts hold a market that was just proposed, disputed,
clarified, re-ruled, resolved 50-50 or closed early — told to their owners before the traders
write in. `detection` turns a market's change into signals (once each), `fanout` gives each owner
of holding accounts one heads-up per signal and mails it once."""
