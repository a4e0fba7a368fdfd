"""Photo processing: time, peak memory and bytes per 12-megapixel phone photo, and the
AWS calls the photo function makes for one.

The photo is made here: 4032 × 3024 (an iPhone's 12 MP), noisy enough to compress like a
real picture, with GPS EXIF, as a JPEG and as a HEIC. ``prepare_photo`` runs in a fresh
subprocess per format (peak memory is that process's ``ru_maxrss`` growth over a baseline
taken after imports, and includes Pillow's decoder buffers); the AWS calls are recorded
in-process with one upload driven through ``process_photo`` on moto, as the S3 event would.

Lambda memory for the photo function is 1024 MB (.chalice/config.json): the peak here is
what that must cover; CPU on Lambda scales with memory (1024 MB ≈ 0.6 vCPU), so time there
is about 1.7× the single-core time measured here.

Run alone: ``python -m bench.photos``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from typing import Any

from bench.environment import ROOT

WIDTH, HEIGHT = 4032, 3024

_CHILD = r"""
import io, json, resource, sys, time
import numpy  # noqa: F401 - imported before the baseline like Pillow itself
from PIL import Image
import pillow_heif
from chalicelib.services.photos import prepare_photo

def photo(fmt):
    import random
    random.seed(7)
    base = Image.effect_noise((WIDTH // 8, HEIGHT // 8), 60).convert("RGB")
    image = base.resize((WIDTH, HEIGHT), Image.BICUBIC)
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (41.0, 52.0, 41.0), 3: "W", 4: (87.0, 37.0, 47.0)}
    out = io.BytesIO()
    if fmt == "HEIC":
        pillow_heif.from_pillow(image).save(out, quality=80, exif=exif.tobytes())
    else:
        image.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()

fmt = sys.argv[1]
content = photo(fmt)
prepare_photo(content)  # once to load the codecs; the measured run is the second
started = time.perf_counter()
prepared = prepare_photo(content)
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"format": fmt, "input_bytes": len(content), "seconds": seconds,
                  "peak_rss_mb": round(peak / 1024),
                  "display_bytes": len(prepared.display),
                  "thumbnail_bytes": len(prepared.thumbnail),
                  "photo_size": [prepared.width, prepared.height]}))
""".replace("WIDTH", str(WIDTH)).replace("HEIGHT", str(HEIGHT))


def measure_processing() -> list[dict[str, Any]]:
    results = []
    for fmt in ("JPEG", "HEIC"):
        out = subprocess.run([sys.executable, "-c", _CHILD, fmt], cwd=ROOT, check=True,
                             capture_output=True, text=True, timeout=300)
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return results


def measure_calls() -> dict[str, int]:
    """AWS calls for one photo through the S3 handler (warm container)."""
    import io

    from PIL import Image

    from bench.awscalls import RECORDER
    from bench.deployment import deployment
    from bench.environment import API_KEY, silenced

    RECORDER.install()
    with silenced(), deployment() as dep:
        posted = dep.http.post(
            "/towns/maplefalls.example/open311/v2/requests.json",
            body=f"service_code=pothole&lat=41.8781&long=-87.6298&attribute%5Bsize%5D=large"
                 f"&api_key={API_KEY}",
            headers={"Content-Type": "application/x-www-form-urlencoded"})
        rid = json.loads(posted.body)[0]["service_request_id"]
        bucket = dep.environment["TOWN311_PHOTO_BUCKET"]
        s3 = dep.client("s3")
        from chalice.test import Client

        from app import app

        def upload(name: str) -> dict:
            picture = io.BytesIO()
            Image.new("RGB", (1200, 900), "gray").save(picture, "JPEG")
            key = f"incoming/maplefalls.example/{rid}/{name}"
            s3.put_object(Bucket=bucket, Key=key, Body=picture.getvalue())
            return {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Post",
                                 "s3": {"bucket": {"name": bucket}, "object": {"key": key}}}]}

        with Client(app) as lambdas:
            lambdas.lambda_.invoke("process_photo", upload("warm"))
            event = upload("measured")
            with RECORDER.recording() as recording:
                lambdas.lambda_.invoke("process_photo", event)
        return dict(sorted(Counter(f"{c.service}:{c.operation}"
                                   for c in recording.calls).items()))


def main() -> None:
    print(json.dumps({"processing": measure_processing(), "calls_per_photo": measure_calls()},
                     indent=2))


if __name__ == "__main__":
    main()
