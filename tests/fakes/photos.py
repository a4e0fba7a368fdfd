"""Fakes of the photo bucket's ports (S3 in the cloud)."""

from __future__ import annotations


class FakePhotoStorage:
    """PhotoStorage (PhotoInbox, PhotoBucket, PhotoUploads, links) as a dict of objects."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.forms: list[tuple[str, str, int, int]] = []

    def receive_upload(self, town_id: str, request_id: str, photo_id: str,
                       content: bytes, content_type: str) -> str:
        key = f"incoming/{town_id}/{request_id}/{photo_id}"
        self.objects[key] = content
        return key

    def read(self, key: str) -> bytes | None:
        return self.objects.get(key)

    def publish(self, key: str, content: bytes, content_type: str) -> None:
        self.objects[key] = content

    def delete(self, key: str) -> None:
        self.objects.pop(key, None)

    def upload_form(self, key: str, content_type: str, max_bytes: int,
                    seconds: int) -> dict[str, object]:
        self.forms.append((key, content_type, max_bytes, seconds))
        return {"url": "https://photos.example/", "fields": {
            "key": key, "Content-Type": content_type}}

    def upload_origin(self) -> str:
        return "https://photos.example"

    def signed_url(self, key: str, seconds: int = 900) -> str:
        return f"https://photos.example/{key}?expires_in={seconds}"


FakePhotoInbox = FakePhotoStorage  # the name the intake tests know it by
