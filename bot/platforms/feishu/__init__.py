"""Feishu / Lark (飞书) custom app bot: settings, the open API through lark-oapi, the
adapter (events and card callbacks in, over HTTP or the SDK's long connection), the
channels (the outbox out) and the platform that wires them. Feishu and Lark are one
package: only the domain differs.
"""
