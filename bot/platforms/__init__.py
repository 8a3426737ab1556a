"""One package per chat platform, each built on the kit (bot/kit/) alone and registered
in bot/kit/platform.py `PLATFORMS`."""
