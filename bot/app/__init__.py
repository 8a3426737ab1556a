"""The web app and its process: the FastAPI app every platform and the web console
mount on (`web`), where it listens (`serving`), several workers on one port
(`workers`), readiness (`health`), the scheduler and outbox dispatcher (`background`),
and the signed praise and feedback endpoints (`praise_api`)."""
