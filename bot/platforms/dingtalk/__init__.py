"""DingTalk (钉钉) enterprise internal app robot: settings, the open API client, the
adapter (robot messages and card clicks in), Stream mode (the SDK's long
connection), the channels (the outbox out) and the platform that wires them."""
