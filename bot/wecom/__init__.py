"""WeCom (企业微信) self-built app: callback crypto, the API client, the adapter.

Another WeCom-style platform (Feishu/Lark, DingTalk) would be a package of the same
shape beside this one: its own crypto, API client and adapter, the same handlers.
"""
