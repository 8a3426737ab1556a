"""WeCom (企业微信) self-built app: settings, callback crypto, the API client, the
adapter (callbacks in), the channels (the outbox out) and the platform that wires
them.

Another WeCom-style platform is a package of the same shape beside this one (DingTalk:
bot/platforms/dingtalk/), and one line in bot.kit.platform.PLATFORMS.
"""
