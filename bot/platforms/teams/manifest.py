"""The Teams app package: manifest.json (the bot, its command menu, the message
extensions "Log as customer praise" and "Thank the author"), its Chinese
localizations and its two icons.

The menu is derived from the command registry and the catalogs, so it always
names commands the bot understands. `teams-app-manifest.json` and `teams-app/`
in the repository are this output with a placeholder app id (a test keeps them
in step); `frontline teams-package` zips it with the configured app id and host.
"""

import json
import zipfile
from pathlib import Path

from handlers.base import Message
from handlers.i18n import render_message
from handlers.registry import menu_verbs

ROOT = Path(__file__).resolve().parents[3]  # the repository: bot/platforms/teams/manifest.py
ICONS = ROOT / "teams-app"
PLACEHOLDER_ID = "00000000-0000-0000-0000-000000000000"
PLACEHOLDER_HOST = "frontline.example.com"
SCHEMA = "https://developer.microsoft.com/en-us/json-schemas/teams/v1.17"
# At most 10 commands in a Teams command menu: the everyday ones.
MENU = ("comp", "waiver", "praise", "suggest", "pending", "waivers", "catalog", "me",
        "lang", "help")
# The message extensions' command ids (each one's form: dialogs.EXTENSIONS), in the
# order of their titles and descriptions in TEXTS.
EXTENSIONS = ("logPraise", "thankAuthor")
LANGUAGES = {"zh-cn": "zh", "zh-tw": "zh_Hant"}  # Teams language tag -> catalog
TEXTS = {  # not chat messages: the store listing, in each language
    "en": ("Frontline", "Frontline — customer experience in daily practice",
           "Compensation, waivers, praise and points, from chat",
           "Log goodwill compensation within your authority, report process waivers in "
           "24 hours, log customer praise and earn experience points; supervisors approve "
           "from cards, HR reviews from the web console.", "Log as customer praise",
           "Log this message (and its files) as a customer praise letter",
           "Thank the author",
           "Thank a colleague for this message, in front of their team if you like"),
    "zh": ("Frontline", "Frontline — 把客户体验文化落到每一天",
           "补偿、豁免、表扬与积分，都在聊天里",
           "在授权额度内登记给客户的补偿，24 小时内报备流程豁免，登记客户表扬并获得体验积分；"
           "主管在卡片上审批，HR 在网页控制台复核。",
           "登记为客户表扬", "把这条消息（及其文件）登记为客户表扬信",
           "感谢发消息的同事", "为这条消息感谢同事，也可以让对方团队看到"),
    "zh_Hant": ("Frontline", "Frontline — 把客戶體驗文化落到每一天",
                "補償、豁免、表揚與積分，都在聊天裡",
                "在授權額度內登記給客戶的補償，24 小時內報備流程豁免，登記客戶表揚並獲得體驗積分；"
                "主管在卡片上審批，HR 在網頁控制台複核。",
                "登記為客戶表揚", "把這條訊息（及其檔案）登記為客戶表揚信",
                "感謝發訊息的同事", "為這則訊息感謝同事，也可以讓對方團隊看到"),
}


def _commands(locale: str) -> list[dict]:
    assert set(MENU) <= set(menu_verbs()), "the Teams menu names an unknown verb"
    return [{"title": render_message(Message(f"verb.{verb}"), locale).split()[0][:32],
             "description": render_message(Message(f"menu.{verb}"), locale)[:128]}
            for verb in MENU]


def manifest(app_id: str = PLACEHOLDER_ID, host: str = PLACEHOLDER_HOST) -> dict:
    short, full, short_text, full_text, *actions = TEXTS["en"]
    scopes = ["personal", "team", "groupChat"]
    return {
        "$schema": f"{SCHEMA}/MicrosoftTeams.schema.json", "manifestVersion": "1.17",
        "version": "1.0.0", "id": app_id,
        "developer": {"name": "Frontline", "websiteUrl": f"https://{host}/",
                      "privacyUrl": f"https://{host}/", "termsOfUseUrl": f"https://{host}/"},
        "name": {"short": short, "full": full},
        "description": {"short": short_text, "full": full_text},
        "icons": {"color": "color.png", "outline": "outline.png"}, "accentColor": "#1D4F91",
        "localizationInfo": {"defaultLanguageTag": "en-us", "additionalLanguages": [
            {"languageTag": tag, "file": f"{tag}.json"} for tag in LANGUAGES]},
        "bots": [{"botId": app_id, "scopes": scopes, "supportsFiles": True,
                  "isNotificationOnly": False,
                  "commandLists": [{"scopes": scopes, "commands": _commands("en")}]}],
        "composeExtensions": [{"botId": app_id, "commands": [
            {"id": command_id, "type": "action", "context": ["message"], "fetchTask": True,
             "title": title, "description": description}
            for command_id, title, description in zip(
                EXTENSIONS, actions[::2], actions[1::2], strict=True)]}],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [host],
    }


def localization(locale: str) -> dict:
    short, full, short_text, full_text, *actions = TEXTS[locale]
    texts = {"$schema": f"{SCHEMA}/MicrosoftTeams.Localization.schema.json",
             "name.short": short, "name.full": full, "description.short": short_text,
             "description.full": full_text}
    for n in range(len(EXTENSIONS)):
        texts[f"composeExtensions[0].commands[{n}].title"] = actions[2 * n]
        texts[f"composeExtensions[0].commands[{n}].description"] = actions[2 * n + 1]
    for n, command in enumerate(_commands(locale)):
        for key, text in command.items():
            texts[f"bots[0].commandLists[0].commands[{n}].{key}"] = text
    return texts


def files(app_id: str = PLACEHOLDER_ID, host: str = PLACEHOLDER_HOST) -> dict[str, str]:
    """The package's JSON files by name."""
    shown = {"manifest.json": manifest(app_id, host)}
    shown |= {f"{tag}.json": localization(locale) for tag, locale in LANGUAGES.items()}
    return {name: json.dumps(data, ensure_ascii=False, indent=2) + "\n"
            for name, data in shown.items()}


def package(out: Path, app_id: str, host: str) -> None:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files(app_id, host).items():
            archive.writestr(name, text)
        for icon in ("color.png", "outline.png"):
            archive.write(ICONS / icon, icon)
