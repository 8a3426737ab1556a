"""Every message the bot sends, in English and Simplified Chinese.

A parameter named `x_key` holds another message key; it is rendered in the same
language and offered to the template as `x`. A parameter named `x_word` holds the key
of a word list (e.g. `verb.comp`); its first word in the reader's language is `x`.
"""

from typing import Any

from handlers.base import Message, Reply

MESSAGES: dict[str, tuple[str, str]] = {
    # --- general ---------------------------------------------------------
    "not_registered": (
        "You are not registered with Frontline yet — please ask HR to add you. If HR gave you a link code, send: link <code>",
        "你还没有在 Frontline 登记 —— 请联系 HR 为你开通。如果 HR 给了你绑定码，请发送：绑定 <绑定码>"),
    "linked": (
        "Welcome, {name}: this chat account is now linked to you in Frontline. Send `help` to start.",
        "欢迎你，{name}：这个聊天账号已关联到你的 Frontline 身份。发送「帮助」开始使用。"),
    "refuse.link_code": (
        "That link code is unknown, used or expired. Ask HR for a new one, then send: link <code>",
        "绑定码无效、已使用或已过期。请向 HR 申请新的绑定码，然后发送：绑定 <绑定码>"),
    "refuse.already_linked": (
        "This chat account is already linked to someone in Frontline; send `me` to see who.",
        "这个聊天账号已关联到 Frontline 中的某位同事；发送「我」查看。"),
    "usage.login": ("Usage: login — I send you a one-time link to the web console",
                    "用法：登录 —— 我会私信你一个网页控制台的一次性登录链接"),
    "menu.login": ("Sign in to the web console", "登录网页控制台"),
    "login.sent": (
        "I have sent you a sign-in link in a private message. It works once, for {minutes} minutes.",
        "登录链接已私信发给你，{minutes} 分钟内有效，只能使用一次。"),
    "notify.login_link": (
        "Your Frontline sign-in link (valid {minutes} minutes, works once; never forward it): {url}",
        "你的 Frontline 登录链接（{minutes} 分钟内有效，仅能使用一次，请勿转发）：{url}"),
    "usage.link": ("Usage: link <code from HR>, e.g. link K7Q4PZM2XA",
                   "用法：绑定 <HR 提供的绑定码>，例如「绑定 K7Q4PZM2XA」"),
    "unknown_command": (
        "I did not understand that. Send `help` to see what I can do.",
        "没看懂这条指令。发送「帮助」查看全部指令。"),
    "help.header": ("Frontline commands (English or 中文):", "Frontline 指令（中英文均可）："),
    "help.line": ("• {verb} — {menu}", "• {verb} —— {menu}"),
    "help.footer": ("Send `help <command>` for details, e.g. `help comp`.",
                    "发送「帮助 <指令>」查看详细用法，例如「帮助 补偿」。"),
    "action.cancel": ("Cancel", "取消"),
    "action.report": ("Report", "报备"),
    "redeem.mine_header": ("Your latest redemptions ({count}):", "你最近的兑换（{count}）："),
    "redeem.mine_line": ("• {ref} · {item} · {cost} points · {status}", "• {ref} · {item} · {cost} 分 · {status}"),
    "status.pending": ("waiting for HR", "等待 HR 处理"),
    "status.fulfilled": ("fulfilled", "已兑现"),
    "status.approved": ("approved, to be fulfilled", "已批准，待兑现"),
    "status.rejected": ("rejected, refunded", "已拒绝，积分已退回"),
    "status.cancelled": ("cancelled, refunded", "已取消，积分已退回"),
    "action.touching": ("❤️ Touching", "❤️ 感动"),
    "decided_by": ("— {name}, {when}", "—— {name}，{when}"),
    # --- step-by-step forms (Telegram) and modals (Slack) ------------------
    "form.comp.amount": ("How much did you give the customer? e.g. 120, or 50 USD. (/cancel to stop)",
                         "你给了客户多少？例如 120，或 50 USD。（发送 /cancel 或「取消」退出）"),
    "form.comp.kind": ("What kind: refund, voucher, upgrade, gift or other?",
                       "补偿类型：退款、代金券、升级、礼品还是其他？"),
    "form.customer_ref": ("The customer reference, e.g. A123 (or - if there is none).",
                          "客户编号，例如 A123（没有请发 -）。"),
    "form.comp.reason": ("Why? One sentence for your supervisor and HR.",
                         "原因？用一句话向主管和 HR 说明。"),
    "form.waiver.which": ("Which waiver are you reporting? e.g. W3 (send `waivers` to see yours). (/cancel to stop)",
                          "要报备哪条豁免？例如 W3（发送「豁免列表」查看）。（发送 /cancel 或「取消」退出）"),
    "form.waiver.done_instead": ("What did you do instead of following the rule?",
                                 "你没有按规则做，而是做了什么？"),
    "form.waiver.why": ("Why — what did the customer need?", "为什么 —— 客户需要什么？"),
    "form.waiver.cost": ("What did it cost? e.g. 30 (or - if nothing).",
                         "产生了多少费用？例如 30（没有请发 -）。"),
    "label.amount": ("Amount (e.g. 120, or 50 USD)", "金额（例如 120，或 50 USD）"),
    "label.kind": ("Kind", "类型"),
    "label.customer_ref": ("Customer reference", "客户编号"),
    "label.reason": ("Reason", "原因"),
    "label.waiver": ("Waiver (e.g. W3)", "豁免编号（例如 W3）"),
    "label.done_instead": ("What you did instead", "实际做法"),
    "label.why": ("Why — what the customer needed", "原因 —— 客户需要什么"),
    "label.cost": ("Cost, if any (e.g. 30)", "费用（如有，例如 30）"),
    "label.employee": ("Who was praised", "被表扬的同事"),
    "label.praise_text": ("What the customer said", "客户的原话"),
    "label.attachment": ("Link to the letter or recording", "表扬信或录音链接"),
    "label.decline_reason": ("Reason for declining", "拒绝理由"),
    "modal.comp": ("Log compensation", "登记补偿"),
    "modal.waiver": ("Report a waiver", "报备豁免"),
    "modal.praise": ("Log customer praise", "登记客户表扬"),
    "modal.decline": ("Decline {ref}", "拒绝 {ref}"),
    "modal.submit": ("Submit", "提交"),
    "modal.close": ("Close", "关闭"),
    "modal.authority": ("Your authority: up to {limit} per incident · used today {today} · this month {month}",
                        "你的授权：单次最多 {limit} · 今日已用 {today} · 本月已用 {month}"),
    "error.not_on_frontline": ("This person is not registered in Frontline.", "此人尚未在 Frontline 登记。"),
    "error.decline_reason": ("Please give a reason.", "请填写拒绝理由。"),
    "broadcast.react_hint": ("React with :{reaction}: if it touched you · 被打动了就点 :{reaction}:",
                             "React with :{reaction}: if it touched you · 被打动了就点 :{reaction}:"),
    "form.cancelled": ("Cancelled: nothing was logged.", "已取消：没有记录任何内容。"),
    "form.timed_out": ("This form waited {minutes} minutes for an answer and was closed; nothing was logged. Start again any time.",
                       "这份表单等待回复超过 {minutes} 分钟，已关闭，没有记录任何内容。随时可以重新开始。"),
    "error.customer_ref": ("The customer reference is one word, e.g. A123 (or - for none).",
                           "客户编号是一个词，例如 A123（没有请填 -）。"),
    "error.waiver_ref": ("Give the waiver's reference, e.g. W3.", "请填写豁免编号，例如 W3。"),
    "action.approve": ("Approve", "批准"),
    "action.decline": ("Decline", "拒绝"),
    # --- command menu descriptions (Telegram setMyCommands) ---------------
    "menu.help": ("What Frontline can do", "查看全部指令"),
    "menu.me": ("Your authority, budget, points and open waivers", "我的授权、预算、积分和待报备豁免"),
    "menu.comp": ("Log goodwill compensation you gave", "登记给客户的补偿"),
    "menu.waiver": ("Waive a rule for a customer, or report one", "为客户豁免规则，或报备豁免"),
    "menu.waivers": ("Your open waivers", "我的豁免"),
    "menu.praise": ("Log or submit customer praise", "登记或提交客户表扬"),
    "menu.touching": ("Mark a praise as touching", "把表扬标记为感动"),
    "menu.suggest": ("Suggest an improvement", "提交改进建议"),
    "menu.solved": ("Report a major experience issue solved", "报告解决的重大体验问题"),
    "menu.pending": ("Approvals waiting for you", "等待我审批的事项"),
    "menu.approve": ("Approve a request", "批准申请"),
    "menu.decline": ("Decline a request", "拒绝申请"),
    "menu.nominate": ("Nominate someone for the Golden Ear", "提名金耳朵奖"),
    "menu.vote": ("Vote for the Golden Ear", "为金耳朵奖投票"),
    "menu.goldenear": ("This month's Golden Ear", "本月金耳朵奖"),
    "menu.catalog": ("What points can buy", "积分商城"),
    "menu.redeem": ("Redeem points", "兑换积分"),
    "menu.cancel": ("Cancel a redemption or a form", "取消兑换或表单"),
    "menu.ledger": ("Points ledger", "积分流水"),
    "menu.lang": ("English or Chinese", "切换语言"),
    "menu.link": ("Link this account with a code from HR", "用 HR 提供的绑定码关联账号"),
    # --- usage -----------------------------------------------------------
    "usage.help": ("Usage: help [command], e.g. `help comp`", "用法：帮助 [指令]，例如「帮助 补偿」"),
    "usage.me": ("Usage: me", "用法：我"),
    "usage.comp": (
        "Usage: comp <amount> [currency] <refund|voucher|upgrade|gift|other> [#customer-ref] "
        "<reason>\nExample: comp 120 voucher #A123 parcel two days late",
        "用法：补偿 <金额> [币种] <退款|代金券|升级|礼品|其他> [#客户编号] <原因>\n"
        "例如：补偿 120 代金券 #A123 包裹晚到两天"),
    "usage.waiver": (
        "Usage: waiver <rule> [@ now | @ 14:30 | @ 2h | @ 2026-11-23 14:30]\n"
        "       waiver report W3 <what you did instead> / <why> [#customer-ref] [cost]\n"
        "Example: waiver no refunds without receipt @ 1h",
        "用法：豁免 <规则> [@ 现在 | @ 14:30 | @ 2小时 | @ 2026-11-23 14:30]\n"
        "      豁免 报备 W3 <实际做法> / <原因> [#客户编号] [费用]\n"
        "例如：豁免 无小票不退款 @ 1小时"),
    "usage.waivers": ("Usage: waivers", "用法：豁免列表"),
    "usage.praise": (
        "Usage: praise @name <what the customer said> [link to letter or recording]\n"
        "       praise <text> — submit praise you received, for your supervisor to confirm",
        "用法：表扬 @姓名 <客户原话> [表扬信或录音链接]\n"
        "      表扬 <内容> —— 提交我收到的表扬，由主管确认"),
    "usage.touching": ("Usage: touching P5", "用法：感动 P5"),
    "usage.suggest": ("Usage: suggest <your improvement idea>", "用法：建议 <你的改进想法>"),
    "usage.solved": ("Usage: solved [@name] <the major experience issue solved>",
                     "用法：解决 [@姓名] <解决的重大体验问题>"),
    "usage.approve": ("Usage: approve <C12|W3|P5|S4|M2|R7> [comment]",
                      "用法：批准 <C12|W3|P5|S4|M2|R7> [备注]"),
    "usage.decline": ("Usage: decline <C12|W3|P5|S4|M2|R7> <reason>",
                      "用法：拒绝 <C12|W3|P5|S4|M2|R7> <理由>"),
    "usage.pending": ("Usage: pending", "用法：待批"),
    "usage.nominate": ("Usage: nominate @name <the customer voice they captured>",
                       "用法：提名 @姓名 <他/她捕捉到的客户之声>"),
    "usage.vote": ("Usage: vote @name", "用法：投票 @姓名"),
    "usage.goldenear": ("Usage: goldenear — this month's nominations; "
                        "goldenear close [YYYY-MM] — close the month (HR)",
                        "用法：金耳朵 —— 本月提名；金耳朵 结算 [YYYY-MM] —— 结算本月（HR）"),
    "usage.catalog": ("Usage: catalog", "用法：商城"),
    "usage.redeem": ("Usage: redeem <item key>, e.g. redeem leave-day (see `catalog`)",
                     "用法：兑换 <项目代码>，例如 兑换 leave-day（见「商城」）"),
    "usage.cancel": ("Usage: cancel R7", "用法：取消 R7"),
    "usage.ledger": ("Usage: ledger [@name] [how many, up to 200]",
                     "用法：流水 [@姓名] [条数，最多200]"),
    "usage.lang": ("Usage: lang en | lang zh", "用法：语言 中文 | 语言 英文"),
    # --- input problems --------------------------------------------------
    "error.amount": ("The amount must be a positive number with at most 2 decimals, e.g. 120 "
                     "or 99.50.", "金额须为正数，最多两位小数，例如 120 或 99.50。"),
    "error.kind": ("The kind must be one of refund, voucher, upgrade, gift, other.",
                   "类型须为：退款、代金券、升级、礼品、其他 之一。"),
    "error.reason": ("Please add the reason.", "请写明原因。"),
    "error.when": ("I could not read the time: use now, 14:30, 2h, 30m or 2026-11-23 14:30.",
                   "无法识别时间：请用 现在、14:30、2小时、30分钟 或 2026-11-23 14:30。"),
    "error.rule": ("Please name the rule you waived.", "请写明豁免的规则。"),
    "error.report_fields": ("Separate what you did and why with a slash: … / …",
                            "请用斜杠分隔实际做法和原因：… / …"),
    "error.text": ("Please add the text.", "请填写内容。"),
    "error.handle": ("Name a colleague as @handle, e.g. @alice.", "请用 @账号 指定同事，例如 @alice。"),
    "error.id": ("That is not a valid number.", "这不是有效的编号。"),
    "error.reference": ("Give the reference shown in the message, e.g. C12.",
                        "请填写消息中显示的编号，例如 C12。"),
    "error.month": ("Write the month as YYYY-MM, e.g. 2026-11.", "月份格式为 YYYY-MM，例如 2026-11。"),
    # --- refusals --------------------------------------------------------
    "refuse.role": ("Your role cannot do that.", "你的角色无权执行此操作。"),
    "refuse.self_approve": ("You cannot decide your own request.", "不能审批自己的申请。"),
    "refuse.self_praise": ("You cannot award yourself praise points.", "不能给自己记表扬积分。"),
    "refuse.self_vote": ("You cannot vote for yourself.", "不能给自己投票。"),
    "refuse.self_nominate": ("You cannot nominate yourself.", "不能提名自己。"),
    "refuse.self_touching": ("You cannot mark your own praise as touching.",
                             "不能把自己的表扬标记为感动。"),
    "refuse.unknown_handle": ("No active colleague is called @{handle}.",
                              "没有名为 @{handle} 的在职同事。"),
    "refuse.currency": ("{currency} is not accepted here; use {allowed}.",
                        "不接受币种 {currency}；请使用 {allowed}。"),
    "refuse.future": ("{when} is in the future: a waiver is opened for something that already "
                      "happened.", "{when} 还没到：只能为已经发生的事开豁免。"),
    "refuse.not_found": ("There is no {ref} that you can act on.", "没有你可以操作的 {ref}。"),
    "refuse.already_decided": ("{ref} has already been decided; nothing changed.",
                               "{ref} 已经处理过了，没有任何改动。"),
    "refuse.already_reported": ("{ref} has already been reported.", "{ref} 已经报备过了。"),
    "refuse.not_reported": ("{ref} has not been reported yet, so it cannot be decided.",
                            "{ref} 尚未报备，暂不能审批。"),
    "refuse.not_approver": ("Only the assigned approver can decide this.",
                            "只有指定的审批人可以处理。"),
    "refuse.no_approver": ("Nobody can approve this: ask HR to set your supervisor.",
                           "没有可审批的人：请联系 HR 设置你的主管。"),
    "refuse.comment_required": ("Please give a reason: {command} <reason>.",
                                "请写明理由：{command} <理由>。"),
    "refuse.insufficient_points": ("Not enough points: you have {balance}, this costs {cost}.",
                                   "积分不足：你有 {balance} 分，需要 {cost} 分。"),
    "refuse.out_of_stock": ("{item} is out of stock.", "{item} 已兑完。"),
    "refuse.unknown_item": ("There is no catalog item {key}. Items: {keys}.",
                            "商城里没有 {key}。可选：{keys}。"),
    "refuse.already_voted": ("You have already voted in {month}.", "你在 {month} 已经投过票了。"),
    "refuse.already_nominated": ("You have already nominated {who} in {month}.",
                                 "你在 {month} 已经提名过 {who}。"),
    "refuse.not_nominated": ("{who} has not been nominated in {month}; nominate first.",
                             "{who} 在 {month} 还没有被提名；请先提名。"),
    "refuse.month_closed": ("Golden Ear {month} is already closed.", "金耳朵奖 {month} 已经结算。"),
    "refuse.already_touching": ("You have already marked {ref} as touching.",
                                "你已经把 {ref} 标记为感动了。"),
    "refuse.conflict": ("Someone changed this at the same moment; nothing changed — please try "
                        "again.", "有人同时修改了它，本次未做任何改动 —— 请重试。"),
    # --- compensation ----------------------------------------------------
    "kind.refund": ("refund", "退款"),
    "kind.voucher": ("voucher", "代金券"),
    "kind.upgrade": ("upgrade", "升级"),
    "kind.gift": ("gift", "礼品"),
    "kind.other": ("other", "其他"),
    "comp.recorded": ("{ref}: {amount} {kind} recorded on your own authority "
                      "(limit {limit} per incident).",
                      "{ref}：{amount} {kind} 已在你的授权内登记（单次额度 {limit}）。"),
    "comp.pending": ("{ref}: {amount} is {why}, so I asked {approver} to approve it.",
                     "{ref}：{amount} {why}，已提交 {approver} 审批。"),
    "comp.why.limit": ("above your per-incident limit", "超出你的单次授权额度"),
    "comp.why.daily_budget": ("over your daily budget", "超出你的每日预算"),
    "comp.why.monthly_budget": ("over your monthly budget", "超出你的每月预算"),
    "comp.why.team_daily_budget": ("over the team's daily budget", "超出团队每日预算"),
    "comp.why.team_monthly_budget": ("over the team's monthly budget", "超出团队每月预算"),
    "comp.why.currency": ("in a currency outside your authority", "使用了授权以外的币种"),
    "comp.approved": ("{ref} ({amount}) approved.", "已批准 {ref}（{amount}）。"),
    "comp.declined": ("{ref} ({amount}) declined.", "已拒绝 {ref}（{amount}）。"),
    "notify.comp_request": (
        "{who} asks to approve {ref}: {amount} {kind} — {why}.\nReason: {reason}\n"
        "Customer: {customer_ref} · their limit {limit} · used this month {month_used}",
        "{who} 申请审批 {ref}：{amount} {kind} —— {why}。\n原因：{reason}\n"
        "客户：{customer_ref} · 其单次额度 {limit} · 本月已用 {month_used}"),
    "notify.comp_approved": ("{decider} approved your {ref} ({amount}). Comment: {comment}",
                             "{decider} 批准了你的 {ref}（{amount}）。备注：{comment}"),
    "notify.comp_declined": ("{decider} declined your {ref} ({amount}). Comment: {comment}",
                             "{decider} 拒绝了你的 {ref}（{amount}）。备注：{comment}"),
    # --- waivers ---------------------------------------------------------
    "waiver.opened": ("{ref} opened for “{rule}”. Report by {due} ({hours} h left): "
                      "waiver report {ref} <what you did> / <why>",
                      "{ref} 已开启：「{rule}」。请在 {due} 前报备（剩 {hours} 小时）："
                      "豁免 报备 {ref} <实际做法> / <原因>"),
    "waiver.reported": ("{ref} reported ({late}); {approver} will review it.",
                        "{ref} 已报备（{late}），将由 {approver} 审核。"),
    "waiver.late": ("late", "逾期"),
    "waiver.on_time": ("on time", "按时"),
    "waiver.ratified": ("{ref} ratified.", "已认可 {ref}。"),
    "waiver.rejected": ("{ref} rejected.", "已驳回 {ref}。"),
    "waiver.list_header": ("Your open waivers: {count}", "你未完成的豁免：{count} 条"),
    "waiver.line_open": ("• {ref} “{rule}” — report by {due} ({hours} h left)",
                         "• {ref}「{rule}」—— 请在 {due} 前报备（剩 {hours} 小时）"),
    "waiver.line_reported": ("• {ref} “{rule}” — reported, awaiting review",
                             "• {ref}「{rule}」—— 已报备，等待审核"),
    "waiver.review_header": ("Waiting for your review: {count}", "等待你审核：{count} 条"),
    "waiver.line_review": ("• {ref} “{rule}”", "• {ref}「{rule}」"),
    "notify.waiver_review": (
        "{who} reports waiver {ref} ({late}) of “{rule}” at {occurred}.\n"
        "Instead: {done_instead}\nWhy: {why}\nCustomer: {customer_ref} · cost {cost}",
        "{who} 报备豁免 {ref}（{late}）：{occurred} 打破「{rule}」。\n"
        "实际做法：{done_instead}\n原因：{why}\n客户：{customer_ref} · 费用 {cost}"),
    "notify.waiver_ratified": ("{decider} ratified your waiver {ref} (“{rule}”). {comment}",
                               "{decider} 认可了你的豁免 {ref}（「{rule}」）。{comment}"),
    "notify.waiver_rejected": ("{decider} rejected your waiver {ref} (“{rule}”): {comment}",
                               "{decider} 驳回了你的豁免 {ref}（「{rule}」）：{comment}"),
    "notify.waiver_due_soon": ("Reminder: waiver {ref} (“{rule}”) must be reported within "
                               "{hours} h: waiver report {ref} <what you did> / <why>",
                               "提醒：豁免 {ref}（「{rule}」）须在 {hours} 小时内报备："
                               "豁免 报备 {ref} <实际做法> / <原因>"),
    "notify.waiver_overdue_supervisor": ("Waiver {ref} by {who} (“{rule}”) was due {due} and "
                                         "is still not reported.",
                                         "{who} 的豁免 {ref}（「{rule}」）应于 {due} 前报备，至今未报备。"),
    "notify.waiver_overdue_employee": ("Waiver {ref} (“{rule}”) was due {due}; it is now late "
                                       "and your supervisor has been told. Please report it.",
                                       "豁免 {ref}（「{rule}」）应于 {due} 前报备，现已逾期并通知主管。请尽快报备。"),
    # --- praise ----------------------------------------------------------
    "praise.logged": ("{ref}: praise for {who} logged, +{points} points, shared with all staff.",
                      "{ref}：已为 {who} 登记表扬，+{points} 积分，并已通报全员。"),
    "praise.submitted": ("{ref}: thank you! {approver} will confirm your praise.",
                         "{ref}：谢谢！{approver} 将确认你的表扬。"),
    "praise.credited": ("{ref} confirmed and credited.", "{ref} 已确认并记分。"),
    "praise.declined": ("{ref} declined.", "{ref} 已拒绝。"),
    "praise.recording_kept": ("🎧 Recording kept with {ref}.", "🎧 录音已保存到 {ref}。"),
    "refuse.no_recent_praise": ("Send a recording right after logging the praise it belongs to (within 10 minutes).",
                                "请在登记表扬后 10 分钟内发送对应的录音。"),
    "praise.touching": ("❤️ You marked {ref} as touching.", "❤️ 你把 {ref} 标记为感动。"),
    "notify.praise_confirm": ("{who} received customer praise ({ref}): “{text}”. Confirm it?",
                              "{who} 收到客户表扬（{ref}）：「{text}」。是否确认？"),
    "notify.praise_credited": ("🎉 Customer praise {ref}: “{text}” — +{points} points!",
                               "🎉 客户表扬 {ref}：「{text}」—— +{points} 积分！"),
    "notify.praise_declined": ("{decider} did not confirm praise {ref}: {comment}",
                               "{decider} 未确认表扬 {ref}：{comment}"),
    "broadcast.praise": ("👏 A customer praised {who}: “{text}”{attachment}\n"
                         "(touching {ref} if it moved you)",
                         "👏 客户表扬了 {who}：「{text}」{attachment}\n（被打动请发送：感动 {ref}）"),
    # --- improvement cases -----------------------------------------------
    "suggestion.submitted": ("{ref}: suggestion sent to {approver}.", "{ref}：建议已提交给 {approver}。"),
    "major_issue.submitted": ("{ref}: sent to {approver} for confirmation.",
                              "{ref}：已提交 {approver} 确认。"),
    "notify.suggestion_review": ("{who} suggests ({ref}): “{text}”. Accept for +{points}?",
                                 "{who} 提出建议（{ref}）：「{text}」。采纳将 +{points} 积分？"),
    "notify.major_issue_review": ("{who} solved a major experience issue ({ref}): “{text}”. "
                                  "Confirm for +{points}?",
                                  "{who} 解决了重大体验问题（{ref}）：「{text}」。确认将 +{points} 积分？"),
    "case.approved": ("{ref} accepted: +{points} points credited.", "{ref} 已采纳：+{points} 积分。"),
    "case.declined": ("{ref} declined.", "{ref} 已拒绝。"),
    "notify.case_approved": ("{decider} accepted {ref} (“{text}”): +{points} points!",
                             "{decider} 采纳了 {ref}（「{text}」）：+{points} 积分！"),
    "notify.case_declined": ("{decider} declined {ref} (“{text}”): {comment}",
                             "{decider} 未采纳 {ref}（「{text}」）：{comment}"),
    # --- Golden Ear ------------------------------------------------------
    "goldenear.nominated": ("You nominated {who} for Golden Ear {month}. Colleagues vote with: "
                            "{vote}", "你提名了 {who} 参评 {month} 金耳朵奖。同事可发送投票：{vote}"),
    "goldenear.voted": ("Your Golden Ear {month} vote for {who} is counted.",
                        "你在 {month} 金耳朵奖投给 {who} 的一票已记录。"),
    "goldenear.header": ("Golden Ear {month} — nominees:", "{month} 金耳朵奖 —— 候选人："),
    "goldenear.line": ("• {who}: {votes} votes, {nominations} nominations",
                       "• {who}：{votes} 票，{nominations} 次提名"),
    "goldenear.closed": ("Golden Ear {month} closed and announced.", "{month} 金耳朵奖已结算并公布。"),
    "broadcast.goldenear_winner": ("🏆 Golden Ear {month}: {who}, with {votes} votes! +{points} "
                                   "points for best capturing the customer's voice.",
                                   "🏆 {month} 金耳朵奖：{who}，得 {votes} 票！"
                                   "最能倾听客户之声，+{points} 积分。"),
    "broadcast.goldenear_none": ("Golden Ear {month}: no nominations this month.",
                                 "{month} 金耳朵奖：本月无人获提名。"),
    # --- redemptions -----------------------------------------------------
    "catalog.header": ("Catalog (your balance: {balance} points):", "积分商城（你的余额：{balance} 分）："),
    "catalog.line": ("• {key} — {name}: {cost} points (left: {stock})",
                     "• {key} —— {name}：{cost} 分（剩余：{stock}）"),
    "redeem.requested": ("{ref}: {item} for {cost} points requested; balance {balance}. "
                         "HR will confirm. Changed your mind? {cancel}",
                         "{ref}：已申请兑换 {item}，扣 {cost} 分，余额 {balance}。HR 将确认。"
                         "想撤回？发送 {cancel}"),
    "redeem.fulfilled": ("{ref} fulfilled.", "{ref} 已兑现。"),
    "redeem.approved": ("{ref} approved; mark it fulfilled once given.", "{ref} 已批准；兑现后请标记为已兑现。"),
    "redeem.rejected": ("{ref} rejected; {cost} points refunded.", "{ref} 已拒绝，{cost} 分已退回。"),
    "redeem.cancelled": ("{ref} cancelled; {cost} points refunded.",
                         "{ref} 已取消，{cost} 分已退回。"),
    "notify.redemption_review": ("{who} redeems {item} for {cost} points ({ref}).",
                                 "{who} 申请用 {cost} 分兑换 {item}（{ref}）。"),
    "notify.redemption_approved": ("Your redemption {ref} ({item}) is approved. {comment}",
                                   "你的兑换 {ref}（{item}）已批准。{comment}"),
    "notify.redemption_fulfilled": ("Your redemption {ref} ({item}) is fulfilled. {comment}",
                                    "你的兑换 {ref}（{item}）已兑现。{comment}"),
    "notify.redemption_rejected": ("Your redemption {ref} ({item}) was rejected and {cost} points "
                                   "refunded: {comment}",
                                   "你的兑换 {ref}（{item}）被拒绝，{cost} 分已退回：{comment}"),
    # --- me, ledger, language, pending -----------------------------------
    "role.employee": ("employee", "员工"),
    "role.supervisor": ("supervisor", "主管"),
    "role.hr": ("HR", "HR"),
    "role.admin": ("admin", "管理员"),
    "me.summary": (
        "{name} · {role} · {team}\n"
        "Authority: up to {limit} per incident · used today {today} · this month {month}\n"
        "Points: {balance} · improvement cases: {cases}/{needed} ({career})\n"
        "Open waivers: {waivers} · waiting for your decision: {pending}",
        "{name} · {role} · {team}\n"
        "授权：单次最多 {limit} · 今日已用 {today} · 本月已用 {month}\n"
        "积分：{balance} · 改进案例：{cases}/{needed}（{career}）\n"
        "未完成豁免：{waivers} · 待你审批：{pending}"),
    "me.career_met": ("career step threshold met", "已达到晋升门槛"),
    "me.career_not_met": ("career step threshold not met yet", "尚未达到晋升门槛"),
    "ledger.header": ("Ledger of {who} — balance {balance}, last {count} entries:",
                      "{who} 的积分流水 —— 余额 {balance}，最近 {count} 条："),
    "ledger.line": ("• {when} {amount} {reason} ({source})", "• {when} {amount} {reason}（{source}）"),
    "reason.praise": ("praise letter", "表扬信"),
    "reason.suggestion": ("accepted suggestion", "建议被采纳"),
    "reason.major_issue": ("major issue solved", "解决重大问题"),
    "reason.golden_ear": ("Golden Ear award", "金耳朵奖"),
    "reason.redemption": ("redemption", "兑换"),
    "reason.reversal": ("reversal", "冲正"),
    "lang.set": ("I will talk to you in English.", "好的，之后我会用中文和你交流。"),
    "pending.header": ("Waiting for your decision: {count}", "待你审批：{count} 条"),
    "pending.line": ("• {ref}", "• {ref}"),
    "notify.approval_waiting": ("{ref} has been waiting for your decision for {hours} h.",
                                "{ref} 已等待你审批 {hours} 小时。"),
    "notify.approval_escalated": ("{ref} was undecided after {hours} h, so it now waits for you.",
                                  "{ref} 超过 {hours} 小时无人审批，现转由你处理。"),
    # --- rituals ---------------------------------------------------------
    "ritual.morning_praise": ("☀️ Good morning! The praise that moved us most since the last morning — a customer said of {who}: “{text}”{recording}\n(❤️ {touching} colleagues found it touching)",
                              "☀️ 早上好！自上次晨会以来最打动人的表扬 —— 客户这样说 {who}：「{text}」{recording}\n（❤️ {touching} 位同事被打动）"),
    "ritual.morning_replay": ("☀️ Good morning! A favourite worth hearing again — a customer said of {who}: “{text}”{recording}",
                              "☀️ 早上好！再听一次大家最爱的表扬 —— 客户这样说 {who}：「{text}」{recording}"),
    "ritual.goldenear_open": ("👂 Golden Ear {month} is open: who best captured the customer's voice? nominate @name <what they heard>",
                              "👂 {month} 金耳朵奖提名开始：谁最能听见客户之声？发送：提名 @姓名 <他/她听到了什么>"),
    "ritual.goldenear_reminder": ("👂 Golden Ear {month}: {count} colleagues nominated — cast your vote: vote @name",
                                  "👂 {month} 金耳朵奖已有 {count} 位同事获提名 —— 请投票：投票 @姓名"),
    "ritual.weekly_digest": ("📊 {team}, last week: {praise} praise letters, {points} points earned; compensation {own_count}× within authority ({own_total}), {approved_count}× approved above it ({approved_total}); waived rules: {rules}; {pending} approvals pending.",
                             "📊 {team} 上周：表扬信 {praise} 封，获得积分 {points}；授权内补偿 {own_count} 次（{own_total}），超额获批 {approved_count} 次（{approved_total}）；被豁免的规则：{rules}；待审批 {pending} 项。"),
    "ritual.red_carpet": ("🎬 Red carpet {year}: {teams} met every experience target this year. Thank you!",
                          "🎬 {year} 年度红毯：{teams} 达成了全部体验目标。谢谢大家！"),
    "ritual.red_carpet_none": ("🎬 Red carpet {year}: no team met all of its targets this year — next year!",
                               "🎬 {year} 年度红毯：今年没有团队达成全部目标 —— 明年见！"),
}

LOCALE_INDEX = {"en": 0, "zh": 1}


def render_message(message: Message, locale: str) -> str:
    template = MESSAGES[message.key][LOCALE_INDEX.get(locale, 0)]
    params: dict[str, Any] = {}
    for name, value in message.params.items():
        if name.endswith("_key"):
            params[name[:-4]] = render_message(Message(value), locale)
        elif name.endswith("_word"):
            params[name[:-5]] = WORDS[value][LOCALE_INDEX.get(locale, 0)].split()[0]
        else:
            params[name] = value
    return template.format(**params)


def render_reply(reply: Reply, locale: str) -> str:
    """Plain text for platforms without native widgets: actions become commands to type."""
    lines = [render_message(message, locale) for message in reply.messages]
    if reply.actions:
        lines.append("  ".join(f"[{render_message(Message(a.label), locale)}: {a.command}]"
                               for a in reply.actions))
    return "\n".join(lines)


# Words people type, per catalog entry and language (space-separated).
WORDS: dict[str, tuple[str, str]] = {
    "verb.help": ("help h ?", "帮助 ？"),
    "verb.me": ("me", "我 我的"),
    "verb.comp": ("comp compensate", "补偿"),
    "verb.waiver": ("waiver", "豁免"),
    "verb.waivers": ("waivers", "豁免列表"),
    "verb.praise": ("praise", "表扬"),
    "verb.touching": ("touching heart", "感动"),
    "verb.suggest": ("suggest suggestion", "建议"),
    "verb.solved": ("solved", "解决"),
    "verb.approve": ("approve ok ratify", "批准 同意 认可"),
    "verb.decline": ("decline reject", "拒绝 驳回"),
    "verb.pending": ("pending", "待批 待办"),
    "verb.nominate": ("nominate", "提名"),
    "verb.vote": ("vote", "投票"),
    "verb.goldenear": ("goldenear golden-ear", "金耳朵"),
    "verb.catalog": ("catalog catalogue", "商城 目录"),
    "verb.redeem": ("redeem", "兑换"),
    "verb.cancel": ("cancel", "取消"),
    "verb.ledger": ("ledger", "流水 积分"),
    "verb.lang": ("lang language", "语言"),
    "verb.link": ("link", "绑定"),
    "verb.login": ("login signin", "登录"),
    "word.kind.refund": ("refund", "退款"),
    "word.kind.voucher": ("voucher", "代金券 券"),
    "word.kind.upgrade": ("upgrade", "升级"),
    "word.kind.gift": ("gift", "礼品 礼物"),
    "word.kind.other": ("other", "其他"),
    "word.lang.en": ("en english", "英文 英语"),
    "word.lang.zh": ("zh chinese", "中文 汉语"),
    "word.waiver.report": ("report", "报备"),
    "word.waiver.list": ("list", "列表"),
    "word.goldenear.close": ("close", "结算"),
    "word.when.now": ("now", "现在 刚才"),
    "word.unit.hours": ("h", "小时"),
    "word.unit.minutes": ("m min", "分钟"),
}


def accepted_words(key: str) -> frozenset[str]:
    """The lower-cased words of catalog entry `key`, in every language."""
    return frozenset(word.lower() for text in WORDS.get(key, ()) for word in text.split())
