"""Where uploaded files (dispute evidence, CSV imports) are kept: on this machine's disk
(MEDIA_ROOT) by default, or in an S3-compatible bucket (AWS S3, MinIO, Cloudflare R2, …) when
MEDIA_S3_BUCKET is set, so that every web node reads what another wrote. Files are private: the
portal serves them only through views that check who may see them, never by a bucket URL."""

import environ


def default_storage_setting(env: environ.Env) -> dict:
    """STORAGES["default"] from the environment. Credentials are boto3's own: AWS_ACCESS_KEY_ID
    and AWS_SECRET_ACCESS_KEY, or the machine's role when they are absent."""
    bucket = env("MEDIA_S3_BUCKET", default="")
    if not bucket:
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": env("MEDIA_S3_ENDPOINT_URL", default="") or None,  # empty: AWS
            "region_name": env("MEDIA_S3_REGION", default="") or None,
            "location": env("MEDIA_S3_PREFIX", default="media").strip("/"),
            "default_acl": None,  # the bucket's own policy: keep it private
            "querystring_auth": True,  # any URL made would expire; the portal makes none
            "file_overwrite": False,  # a second upload of a name gets a fresh one, as on disk
        },
    }
