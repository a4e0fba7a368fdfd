"""Wire format of the admin's knowledge base API (``/admin/articles``): plain JSON, strict
(an unknown field is an error). The limits are the domain's (chalicelib.domain.knowledge)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from chalicelib.domain import knowledge as kb
from chalicelib.schemas.fields import public_text
from chalicelib.schemas.model import WireModel

Question = Annotated[str, Field(min_length=1, max_length=kb.QUESTION_MAX),
                     public_text(kb.QUESTION_MAX)]
Answer = Annotated[str, Field(min_length=1, max_length=kb.ANSWER_MAX),
                   public_text(kb.ANSWER_MAX, multiline=True)]
Keyword = Annotated[str, Field(min_length=1, max_length=kb.KEYWORD_MAX),
                    public_text(kb.KEYWORD_MAX)]
OwnerName = Annotated[str, Field(min_length=1, max_length=kb.OWNER_MAX),
                      public_text(kb.OWNER_MAX)]
Phone = Annotated[str, Field(max_length=kb.PHONE_MAX, pattern=r"^\+?[0-9 ().-]{3,30}$"),
                  public_text(kb.PHONE_MAX)]
Url = Annotated[str, Field(max_length=kb.URL_MAX, pattern=r"^https://[^\s/]+(/\S*)?$"),
                public_text(kb.URL_MAX)]
Topic = Annotated[str, Field(pattern=kb.ARTICLE_ID.pattern)]
# The languages the pages are written in; an article in another would never be shown.
Language = Literal["en", "es"]


class Strict(WireModel):
    model_config = ConfigDict(extra="forbid")


class OwnerIn(Strict):
    """Who decides the answer: the town's department or another body (the county)."""

    name: OwnerName
    phone: Phone | None = None
    url: Url | None = None


class ArticleIn(Strict):
    question: Question
    answer: Answer
    language: Language = "en"
    keywords: list[Keyword] = Field(default_factory=list, max_length=kb.KEYWORDS_MAX)
    owner: OwnerIn
    # Versions of the same answer in other languages share a topic (an article's id).
    topic: Topic | None = None
