"""What the demo's people and customers say: plain data, in the languages they write."""

GOODWILL = (  # (kind, reason)
    ("voucher", "parcel two days late"),
    ("voucher", "waited 40 minutes at the till"),
    ("refund", "item arrived scratched"),
    ("gift", "birthday purchase went wrong, gave flowers"),
    ("upgrade", "upgraded delivery to same day"),
    ("refund", "charged twice for one order"),
    ("voucher", "订单系统出错，顾客白跑一趟"),
    ("gift", "送了一盒巧克力赔礼"),
    ("other", "paid the taxi home for a heavy order"),
)
ABOVE_LIMIT = (
    ("refund", "full refund of a faulty coffee machine"),
    ("refund", "wedding order delivered to the wrong address"),
    ("voucher", "third failed delivery of the same sofa"),
)
RULES = (  # (rule, what was done instead, why)
    ("no refunds without receipt", "refunded to the original card",
     "regular customer, receipt lost, card statement shown"),
    ("order system offline: paper order slips", "wrote the order by hand",
     "the system was down for an hour"),
    ("no exchanges after 30 days", "exchanged the kettle",
     "it broke on day 33, clearly a defect"),
    ("staff only in the stockroom", "let the customer pick the colour in the stockroom",
     "the shop floor sample was faded"),
    ("one discount per order", "stacked the member and holiday discounts",
     "we had advertised both on the poster"),
)
IT_RULE = RULES[1]
PRAISE = (
    "She found my lost ring in the fitting room!",
    "Explained every option patiently, no pressure at all.",
    "Stayed after closing so I could pick up my order.",
    "耐心帮我挑了很久，非常满意。",
    "Remembered my name and my usual order.",
    "Called me back the same day as promised.",
    "他主动帮我把东西搬上车，太贴心了。",
    "Fixed my online order in two minutes when the app failed.",
)
SUGGESTIONS = (
    "umbrella stand at the door on rainy days",
    "a second till at lunchtime",
    "print the returns policy on the receipt",
    "一个给老人用的休息椅",
    "text customers when their order is ready",
    "a backup card reader for when the order system is offline",
)
DECLINE_SUGGESTION = "not this year: the budget is spent"
NOMINATION = (
    "listened to the whole story before offering anything",
    "noticed the customer was in a hurry and skipped the upsell",
    "heard what the customer did not say",
    "把顾客的抱怨变成了改进建议",
)
PULSE = ("", "", "", "queue too long at lunch, we need another shift", "",
         "refund rules slow us down", "great week, the team helped each other", "")
IT_PULSE = ("the order system was down again", "系统又死机了")
CUSTOMERS = {  # what a response's text says, by how it feels
    "happy": ("", "", "Friendly and quick", "Great service", "服务很好", "Will come back"),
    "unhappy": ("Waited too long in the queue", "Product broken on arrival",
                "Refund took two weeks", "退款太慢了", "Nobody knew if it was in stock"),
    "complaint": ("Nobody answered the phone for two days", "Rude at the till",
                  "Long queue and only one till open", "产品质量有问题",
                  "Refused a return without the receipt"),
}
IT_VOICES = ("The order system was offline and nobody could help", "The app lost my order",
             "The order system lost my order", "系统死机，等了半小时")  # Riverside, before the fix
TOUCHPOINTS = ("store", "phone", "app", "delivery")
