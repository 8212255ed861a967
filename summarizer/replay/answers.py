"""The bodies the replay server sends: a chat completion made from a recording, in the shape the request
asked for (a tool call or JSON content, or words where the server's quirks say the tools did not count), the
bodies of injected faults, and OpenAI-style error objects."""

from __future__ import annotations

import json
import time
from http import HTTPStatus
from typing import Any

from summarizer.extraction.records import CHARS_PER_TOKEN, Record, estimate_tokens
from summarizer.replay.faults import FaultKind, Quirks
from summarizer.replay.prompt_cache import PromptCache

LOOPBACK_FINGERPRINT = "summarizer-loopback:"
"""``system_fingerprint`` prefix of the server's answers, followed by the recording's origin (or ``fault``)."""


def _estimate_tokens(text: str) -> int:
    # Authored recordings carry no usage; a rough estimate keeps the field present.
    return max(1, estimate_tokens(text))


def _message_texts(body: dict[str, Any]) -> list[str]:
    texts: list[str] = []
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, list):
            texts.append("\n".join(str(c.get("text", "")) for c in content if isinstance(c, dict)))
    return texts


def message_text(body: dict[str, Any]) -> str:
    """Every message's text in a chat request, joined."""
    return "\n".join(_message_texts(body))


def prompt_parts(body: dict[str, Any], quirks: Quirks) -> list[str]:
    """What an endpoint bills as the prompt, in the order it lays the prompt out: the schema sent as tools
    (unless the server drops them) or response format, then each message."""
    kept = ("response_format",) if quirks.drop_tools else ("tools", "functions", "response_format")
    schema = {k: body[k] for k in kept if body.get(k)}
    return [json.dumps(schema, separators=(",", ":")) if schema else "", *_message_texts(body)]


def _prompt_tokens(body: dict[str, Any], quirks: Quirks) -> int:
    return _estimate_tokens("\n".join(prompt_parts(body, quirks)))


def answers_in_words(request: dict[str, Any], quirks: Quirks) -> bool:
    """True when the server, with its quirks, would answer this tool request in words: it dropped the tools, or
    ignored a tool_choice naming the tool and the model chose to talk."""
    if not request.get("tools"):
        return False
    return quirks.drop_tools or (quirks.tool_choice == "ignore" and isinstance(request.get("tool_choice"), dict))


def refuses(request: dict[str, Any], quirks: Quirks) -> bool:
    """True when the server, with its quirks, refuses the request for its tool_choice object."""
    return (
        quirks.tool_choice == "refuse" and bool(request.get("tools")) and isinstance(request.get("tool_choice"), dict)
    )


TOOL_CHOICE_REFUSED = "Wrong type supplied for parameter 'tool_choice': expected a string: auto, none or required"
"""The message of the HTTP 400 a ``refuse`` server sends for a tool_choice object."""


def _tool_name(body: dict[str, Any]) -> str | None:
    choice = body.get("tool_choice")
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name")
        if isinstance(name, str):
            return name
    tools = body.get("tools")
    if isinstance(tools, list) and tools:
        name = (tools[0].get("function") or {}).get("name")
        return name if isinstance(name, str) else None
    return None


def _assistant_message(payload: str, request: dict[str, Any], number: int) -> tuple[dict[str, Any], str]:
    """``payload`` as the request asked for it: a tool call when it offered tools, else message content; and
    the finish reason that goes with it."""
    tool = _tool_name(request)
    if tool is not None:
        call = {"id": f"call_{number}", "type": "function", "function": {"name": tool, "arguments": payload}}
        return {"role": "assistant", "content": None, "tool_calls": [call]}, "tool_calls"
    return {"role": "assistant", "content": payload}, "stop"


def _chat_completion(
    message: dict[str, Any],
    finish: str,
    model: str,
    number: int,
    prompt: int,
    completion: int,
    fingerprint: str,
    cached: int = 0,
) -> dict[str, Any]:
    usage = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached},
    }
    return {
        "id": f"chatcmpl-loopback-{number}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": fingerprint,
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": usage,
    }


def _payload(record: Record, request: dict[str, Any], quirks: Quirks) -> str:
    if answers_in_words(request, quirks):
        return f"Here is what the article reports. {record.output.get('summary', '')}"
    return json.dumps(record.output, ensure_ascii=False)


def _usage(record: Record, request: dict[str, Any], quirks: Quirks, payload: str) -> tuple[int, int]:
    recorded = None if quirks.drop_tools else record.response.usage
    prompt = recorded.prompt_tokens if recorded else _prompt_tokens(request, quirks)
    completion = recorded.completion_tokens if recorded else _estimate_tokens(payload)
    return prompt, completion


def billed_tokens(record: Record | None, request: dict[str, Any], quirks: Quirks | None = None) -> int:
    """The tokens the answer to ``request`` will report (prompt and completion), known when it arrives; the
    prompt alone when there is no recording to answer from."""
    quirks = quirks or Quirks()
    if record is None:
        return _prompt_tokens(request, quirks)
    return sum(_usage(record, request, quirks, _payload(record, request, quirks)))


def completion_body(
    record: Record,
    request: dict[str, Any],
    number: int,
    quirks: Quirks | None = None,
    prompt_cache: PromptCache | None = None,
) -> dict[str, Any]:
    """The chat completion answering ``request`` with ``record``'s output (in words, as a model that never saw
    the tool or was free not to call it would answer, where ``quirks`` say so); with ``prompt_cache``, the
    prompt tokens it holds are reported as cached."""
    quirks = quirks or Quirks()
    payload = _payload(record, request, quirks)
    if answers_in_words(request, quirks):
        message, finish = {"role": "assistant", "content": payload}, "stop"
    else:
        message, finish = _assistant_message(payload, request, number)
    prompt, completion = _usage(record, request, quirks, payload)
    cached = prompt_cache.cached_tokens(prompt_parts(request, quirks), prompt) if prompt_cache is not None else 0
    model = record.response.model or str(request.get("model", "loopback"))
    fingerprint = LOOPBACK_FINGERPRINT + record.origin
    return _chat_completion(message, finish, model, number, prompt, completion, fingerprint, cached)


# Fails the extraction schema in several ways at once: the required summary is missing, parties is a string
# instead of a list, and the casualty claim lacks its kind, victims and evidence and gives "many" as a number.
_INVALID_OUTPUT: dict[str, Any] = {
    "parties": "Caldria, Dravic National Movement",
    "casualties": [{"figure_text": "many", "low": "many"}],
}
REFUSAL_TEXT = "I can't help with that."
"""The ``refusal`` of a ``refusal`` fault."""


GARBAGE_OUTPUT: dict[str, Any] = {"summary": "<h1 class="}
"""The answer of a ``garbage`` fault: it passes the JSON schema, and is no extraction."""
_LOOPING = "The talks will resume next week and the ceasefire will hold. "


def _cap(request: dict[str, Any]) -> int | None:
    cap = request.get("max_completion_tokens") or request.get("max_tokens")
    return cap if isinstance(cap, int) and cap > 0 else None


def fault_body(
    kind: FaultKind, record: Record | None, request: dict[str, Any], number: int, quirks: Quirks | None = None
) -> bytes:
    """The HTTP 200 body of a content fault (``malformed``, ``invalid``, ``length``, ``refusal``, ``loop`` or
    ``garbage``) answering ``request``; ``record`` is the article's recording when there is one."""
    quirks = quirks or Quirks()
    model = str(request.get("model") or "loopback")
    prompt = _prompt_tokens(request, quirks)
    fingerprint = LOOPBACK_FINGERPRINT + "fault"
    if kind == "refusal":
        # What OpenAI returns when the model declines: no content, no tool call, the reason in `refusal`.
        message: dict[str, Any] = {"role": "assistant", "content": None, "refusal": REFUSAL_TEXT}
        body = _chat_completion(message, "stop", model, number, prompt, _estimate_tokens(REFUSAL_TEXT), fingerprint)
    elif kind == "length":
        # Half the answer, counted as the request's cap reached: what a finish_reason of "length" says happened.
        full = json.dumps(record.output if record else _INVALID_OUTPUT, ensure_ascii=False)
        cut = full[: max(1, len(full) // 2)]
        message, _ = _assistant_message(cut, request, number)
        produced = _cap(request) or _estimate_tokens(cut)
        body = _chat_completion(message, "length", model, number, prompt, produced, fingerprint)
    elif kind == "loop":
        room = max(1, quirks.context - prompt)
        cap = _cap(request)
        produced = min(cap, room) if cap is not None else room
        text = '{"summary": "' + _LOOPING * (produced * CHARS_PER_TOKEN // len(_LOOPING) + 1)
        message, _ = _assistant_message(text[: produced * CHARS_PER_TOKEN], request, number)
        body = _chat_completion(message, "length", model, number, prompt, produced, fingerprint)
    elif kind in ("invalid", "malformed", "garbage"):
        payload = json.dumps(GARBAGE_OUTPUT if kind == "garbage" else _INVALID_OUTPUT)
        message, finish = _assistant_message(payload, request, number)
        body = _chat_completion(message, finish, model, number, prompt, _estimate_tokens(payload), fingerprint)
    else:
        raise ValueError(f"{kind} is not a fault with a response body")
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    # Malformed: the completion cut off mid-way, as when a proxy truncates a response; never valid JSON.
    return data[: len(data) // 2] if kind == "malformed" else data


STATUS_FAULTS: dict[str, tuple[HTTPStatus, str, str, str]] = {
    "429": (
        HTTPStatus.TOO_MANY_REQUESTS,
        "Rate limit reached (injected fault); retry after the delay in Retry-After",
        "requests",
        "rate_limit_exceeded",
    ),
    "500": (
        HTTPStatus.INTERNAL_SERVER_ERROR,
        "The server had an error while processing your request (injected fault)",
        "server_error",
        "internal_error",
    ),
    "503": (
        HTTPStatus.SERVICE_UNAVAILABLE,
        "The server is overloaded or not ready yet (injected fault)",
        "server_error",
        "unavailable",
    ),
}


def error_body(message: str, kind: str, code: str) -> dict[str, Any]:
    """An error body as OpenAI sends one."""
    return {"error": {"message": message, "type": kind, "code": code, "param": None}}
