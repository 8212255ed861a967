"""Chat completions read and written for instructor: the answer's text as the model wrote it, whether a tool-mode
answer came in words and whether the tools can have been in its prompt, and messages made safe for instructor's
templating; and ``RequestBuilt``, which stops a request once instructor has built it, for a Batch API line."""

from __future__ import annotations

import json
import re
from typing import Any, cast

from instructor.core import IncompleteOutputException
from openai.types.chat import ChatCompletion, ChatCompletionMessageParam
from openai.types.completion_usage import CompletionUsage
from pydantic import BaseModel

from summarizer.extraction.failures import ToolsDropped
from summarizer.extraction.records import CHARS_PER_TOKEN, Usage

_FENCED = re.compile(r"```(?:json)?\s*(\{.*\})\s*```", re.DOTALL)


def _payload(completion: ChatCompletion) -> str:
    message = completion.choices[0].message
    if message.tool_calls:
        call = message.tool_calls[0]
        arguments = getattr(getattr(call, "function", None), "arguments", None)
        if isinstance(arguments, str):
            return arguments
    return message.content or ""


def usage_of(answer: object) -> Usage | None:
    """What one answer says it cost (its prompt tokens served from the provider's cache apart), or None when
    it says nothing (openai hands back the decoded JSON as it is when the body is JSON but not an object)."""
    usage = answer.usage if isinstance(answer, ChatCompletion) else None
    if usage is None:
        return None
    return Usage.of(usage.prompt_tokens or 0, usage.completion_tokens or 0, cached_of(usage))


def cached_of(usage: CompletionUsage) -> int:
    """The prompt tokens the provider served from its prompt cache (``prompt_tokens_details.cached_tokens``)."""
    details = usage.prompt_tokens_details
    return (details.cached_tokens or 0) if details is not None else 0


def raw_answer(answer: object) -> str | None:
    """The answer as the model wrote it: the tool call's arguments or the content; the body for anything else."""
    if isinstance(answer, ChatCompletion):
        return _payload(answer) if answer.choices else ""
    if answer is None:
        return None
    try:
        return json.dumps(answer, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(answer)


def decoded_output(completion: ChatCompletion, extraction: BaseModel) -> dict[str, Any]:
    """The model's JSON as returned; the validated extraction if the raw text is not a plain JSON object."""
    text = _payload(completion)
    fenced = _FENCED.search(text)
    try:
        value = json.loads(fenced.group(1) if fenced else text)
    except json.JSONDecodeError:
        value = None
    return value if isinstance(value, dict) else extraction.model_dump(mode="json")


# With a validation context, instructor also renders every message as a Jinja template. Each Jinja delimiter in
# a message is written as an expression that renders to it, so the article arrives as written (`{{ x }}` in an
# article is text, not a variable). Rendering also dedents, which changes nothing here: every message's first line
# starts at the margin, and an article has no whitespace-only lines after clean-up.
_JINJA_OPENING = re.compile(r"\{[{%#]")


def jinja_literal(message: ChatCompletionMessageParam) -> ChatCompletionMessageParam:
    """``message`` with each Jinja delimiter in its text written as an expression that renders to it."""
    content = message.get("content")
    if not isinstance(content, str):
        return message
    literal = _JINJA_OPENING.sub(lambda m: f"{{{{ {m.group(0)!r} }}}}", content)
    return cast(ChatCompletionMessageParam, {**message, "content": literal})


def in_words(answer: object) -> bool:
    """True for an answer in words where a tool call was asked for: no call and no refusal, whole or cut off
    (a model that never saw the tool talks until it stops, or until max_tokens stops it)."""
    if not isinstance(answer, ChatCompletion) or not answer.choices:
        return False
    message = answer.choices[0].message
    return not message.tool_calls and message.function_call is None and not message.refusal


def tools_left_out(kwargs: dict[str, Any], answer: ChatCompletion) -> ToolsDropped | None:
    """The evidence that the server left the tools out of the prompt: it counted fewer prompt tokens than the
    messages and half the tool schema would take (at four characters a token: tokenizers differ by less)."""
    if answer.usage is None or not kwargs.get("tools"):
        return None
    messages = sum(len(str(m.get("content") or "")) for m in kwargs.get("messages", []) if isinstance(m, dict))
    tools = len(json.dumps(kwargs["tools"], separators=(",", ":")))
    if answer.usage.prompt_tokens < (messages + tools / 2) / CHARS_PER_TOKEN:
        return ToolsDropped(answer.usage.prompt_tokens, tools // CHARS_PER_TOKEN)
    return None


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, saying how long it was."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters in all)"


class RequestBuilt(IncompleteOutputException):
    """The first request of an article as instructor built it, caught before it was sent. Raised from ``_send``
    to stop there: instructor passes an IncompleteOutputException on to the caller as it is, without logging a
    failed call or re-asking."""

    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__("request built, not sent")
        self.body = body


def built_request(exc: BaseException) -> RequestBuilt | None:
    """The ``RequestBuilt`` that ``exc`` is or was raised from, if any."""
    seen: BaseException | None = exc
    while seen is not None and not isinstance(seen, RequestBuilt):
        seen = seen.__cause__ or seen.__context__
    return seen
