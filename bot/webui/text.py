"""Every word the web console shows, in English and Simplified Chinese (the chat
messages live in handlers/i18n.py; record statuses and ledger reasons are shared
from there)."""

from typing import Any

from handlers.base import Message
from handlers.i18n import LOCALE_INDEX, render_message

TEXT: dict[str, tuple[str, str]] = {
    "title": ("Frontline", "Frontline 前线"),
    "nav.ledger": ("Ledger", "积分流水"),
    "nav.redemptions": ("Redemptions", "兑换"),
    "nav.compensation": ("Compensation", "补偿"),
    "nav.waivers": ("Waivers", "豁免"),
    "nav.recognition": ("Recognition", "表彰"),
    "nav.team": ("Team", "团队"),
    "nav.signout": ("Sign out", "退出"),
    "nav.language": ("中文", "English"),
    # sign-in
    "signin.title": ("Sign in", "登录"),
    "signin.how": (
        "Frontline has no passwords. Send login to the Frontline bot in Slack, Telegram or "
        "WeCom: it sends you a one-time link that opens the console.",
        "Frontline 不用密码。在 Slack、Telegram 或企业微信里给 Frontline 机器人发送「登录」，"
        "它会私信你一个一次性链接，点开即可进入控制台。"),
    "signin.confirm": ("Continue as the owner of this link", "以此链接的所有者身份继续"),
    "signin.button": ("Sign in", "登录"),
    "signin.bad_link": (
        "This sign-in link is unknown, already used or expired. Send login to the bot for a "
        "new one.",
        "登录链接无效、已使用或已过期。请给机器人发送「登录」获取新链接。"),
    # errors
    "error.title": ("Sorry", "抱歉"),
    "error.not_found": ("Nothing here — or nothing you may see.", "这里没有内容，或你无权查看。"),
    "error.role": ("This page is for supervisors and HR.", "此页面仅供主管和 HR 使用。"),
    "error.hr_only": ("Only HR can decide redemptions.", "只有 HR 可以处理兑换申请。"),
    "error.csrf": (
        "This form has expired. Go back, reload the page and send it again.",
        "表单已失效。请返回并刷新页面后重新提交。"),
    "error.date": ("Dates look like 2026-11-01.", "日期格式为 2026-11-01。"),
    "error.month": ("Months look like 2026-11.", "月份格式为 2026-11。"),
    "error.back": ("Back to the start", "返回首页"),
    # ledger
    "ledger.title": ("Points ledger", "积分流水"),
    "ledger.history": ("History of {name} · balance {balance}",
                       "{name} 的积分记录 · 余额 {balance}"),
    "filter.person": ("Person", "人员"),
    "filter.handle_hint": ("handle, e.g. alice", "用户名，例如 alice"),
    "filter.team": ("Team", "团队"),
    "filter.reason": ("Reason", "原因"),
    "filter.from": ("From", "从"),
    "filter.to": ("To", "到"),
    "filter.any": ("Any", "全部"),
    "filter.apply": ("Filter", "筛选"),
    "filter.clear": ("Clear", "清除"),
    "ledger.export": ("Export these entries as CSV", "导出筛选结果（CSV）"),
    "ledger.empty": ("No entries match.", "没有符合条件的记录。"),
    "col.when": ("When", "时间"),
    "col.person": ("Person", "人员"),
    "col.team": ("Team", "团队"),
    "col.reason": ("Reason", "原因"),
    "col.points": ("Points", "积分"),
    "col.balance": ("Balance after", "变动后余额"),
    "col.source": ("Source", "来源"),
    "col.note": ("Note", "备注"),
    "page.newer": ("← Newer", "← 较新"),
    "page.older": ("Older →", "较早 →"),
    # redemptions
    "redemptions.title": ("Redemptions", "积分兑换"),
    "redemptions.open": ("Waiting", "待处理"),
    "redemptions.settled": ("Settled", "已处理"),
    "redemptions.empty": ("Nothing here.", "暂无记录。"),
    "col.ref": ("Ref", "编号"),
    "col.item": ("Item", "项目"),
    "col.cost": ("Cost", "积分"),
    "col.status": ("Status", "状态"),
    "col.requested": ("Requested", "申请时间"),
    "col.decision": ("Decision", "处理"),
    "comment": ("Comment", "备注"),
    "button.approve": ("Approve", "批准"),
    "button.fulfil": ("Fulfilled", "已兑现"),
    "button.reject": ("Reject & refund", "拒绝并退分"),
    "button.decline": ("Decline", "拒绝"),
    # compensation
    "compensation.title": ("Compensation spend · {month}", "补偿支出 · {month}"),
    "compensation.trend": ("Spend per month ({currency})", "每月补偿支出（{currency}）"),
    "compensation.kinds": ("By kind", "按类型"),
    "compensation.teams": ("Per team, against the team budget", "各团队支出与团队预算"),
    "compensation.people": ("Per person, against their authority", "各人支出与授权额度"),
    "compensation.other": ("Also given in other currencies", "其他币种支出"),
    "compensation.approvals": ("Requests above authority", "超出授权的申请"),
    "compensation.turnaround": (
        "Decision time: median {median} h, 90% within {p90} h",
        "审批用时：中位数 {median} 小时，90% 在 {p90} 小时内"),
    "comp.pending": ("Waiting", "待审批"),
    "comp.approved": ("Approved", "已批准"),
    "comp.declined": ("Declined", "已拒绝"),
    "compensation.no_turnaround": ("No decisions this month.", "本月没有审批记录。"),
    "col.spent": ("Spent", "已支出"),
    "col.count": ("Times", "次数"),
    "col.limit": ("Per-incident limit", "单次额度"),
    "col.budget": ("Monthly budget", "月度预算"),
    "col.used": ("Used", "使用率"),
    "col.kind": ("Kind", "类型"),
    "col.month": ("Month", "月份"),
    "none": ("—", "—"),
    # waivers
    "waivers.title": ("Waivers: where rules fight customers", "豁免：规则与客户的摩擦"),
    "waivers.window": ("{since} to {until}", "{since} 至 {until}"),
    "waivers.summary": (
        "{waived} waivers · {reported} reported · late-report rate {late_rate} · "
        "{overdue} overdue now · ratified {ratified} / rejected {rejected}",
        "共 {waived} 次豁免 · 已报备 {reported} · 逾期报备率 {late_rate} · "
        "当前逾期未报 {overdue} · 认可 {ratified} / 驳回 {rejected}"),
    "waivers.chart": ("Most waived rules", "被豁免最多的规则"),
    "waivers.empty": ("No waivers in this period.", "此期间没有豁免。"),
    "col.rule": ("Rule", "规则"),
    "col.waived": ("Waived", "豁免次数"),
    "col.late": ("Reported late", "逾期报备"),
    "col.ratified": ("Ratified", "认可"),
    "col.rejected": ("Rejected", "驳回"),
    "col.unreported": ("Not yet reported", "未报备"),
    "col.customers": ("With a customer ref", "涉及客户"),
    "col.waiver_cost": ("Cost", "费用"),
    # recognition
    "recognition.title": ("Recognition", "表彰"),
    "recognition.praise": ("Customer praise letters per month", "每月客户表扬信"),
    "recognition.per_team": ("Per team", "各团队"),
    "recognition.golden_ear": ("Golden Ear", "金耳朵奖"),
    "recognition.no_winner": ("no winner", "空缺"),
    "recognition.cases": (
        "Improvement cases (career step at {threshold})", "改进案例（{threshold} 个可晋升）"),
    "col.cases": ("Cases", "案例"),
    "col.career": ("Career step", "晋升条件"),
    "col.winner": ("Winner", "获奖者"),
    "col.votes": ("Votes", "票数"),
    "career.met": ("met", "已达到"),
    "career.not_met": ("{missing} to go", "还差 {missing} 个"),
    # team
    "team.title": ("Team {team}", "团队 {team}"),
    "team.members": ("Members", "成员"),
    "team.pending": ("Waiting for your decision", "等待你审批"),
    "team.none_pending": ("Nothing is waiting for you.", "没有等待你审批的事项。"),
    "col.role": ("Role", "角色"),
    "col.points_balance": ("Points", "积分"),
    "col.open_waivers": ("Open waivers", "未报备豁免"),
    "col.what": ("What", "内容"),
}


def text(key: str, locale: str, **params: Any) -> str:
    """A console phrase, or a shared chat message (statuses, reasons, roles)."""
    if key in TEXT:
        template = TEXT[key][LOCALE_INDEX.get(locale, 0)]
        return template.format(**params) if params else template
    return render_message(Message(key, params), locale)  # KeyError: a missing phrase
