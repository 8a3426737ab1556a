"""Who the demo organisation is: two stores and two HR people. The first five people are
the small organisation the documentation's examples and the tests use."""

from dataclasses import dataclass
from zoneinfo import ZoneInfo

DEMO_STAFF = """handle,name,role,team,timezone,supervisor,locale
wang,王芳 Wang Fang,supervisor,Harbour Street Store,Asia/Shanghai,,zh
alice,Alice Chen,employee,Harbour Street Store,,wang,en
bob,Bob Li,employee,Harbour Street Store,,wang,en
lilei,李雷 Li Lei,employee,Harbour Street Store,,wang,zh
hana,Hana Xu,hr,Head Office,Asia/Shanghai,,en
"""

# HR belongs to no store here, so HR's team pages open on the first store's.
DEMO_ORGANISATION = DEMO_STAFF.replace("hr,Head Office,Asia/Shanghai", "hr,,") + """\
chen,陈静 Chen Jing,employee,Harbour Street Store,,wang,zh
tom,Tom Wu,employee,Harbour Street Store,,wang,en
zhao,赵强 Zhao Qiang,supervisor,Riverside Mall,Asia/Shanghai,,zh
emma,Emma Lin,employee,Riverside Mall,,zhao,en
liu,刘洋 Liu Yang,employee,Riverside Mall,,zhao,zh
sara,何詩雅 Sara Ho,employee,Riverside Mall,,zhao,zh-Hant
kevin,Kevin Zhang,employee,Riverside Mall,,zhao,en
ming,周明 Zhou Ming,employee,Riverside Mall,,zhao,zh
mei,黃美玲 Mei Wong,hr,,,,zh-Hant
"""


@dataclass(frozen=True)
class Store:
    name: str
    supervisor: str
    staff: tuple[str, ...]
    # How the customers rate it: the chance a response is a promoter / a detractor
    promoters: float
    detractors: float


HARBOUR = Store("Harbour Street Store", "wang", ("alice", "bob", "lilei", "chen", "tom"),
                0.62, 0.12)
# Riverside's order system lets its customers down until the council's fix
RIVERSIDE = Store("Riverside Mall", "zhao", ("emma", "liu", "sara", "kevin", "ming"),
                  0.45, 0.28)
STORES = (HARBOUR, RIVERSIDE)
HR = ("hana", "mei")
STORE_TZ = ZoneInfo("Asia/Shanghai")  # every team's, as the directory above says
EVERYONE = (*HARBOUR.staff, *RIVERSIDE.staff, "wang", "zhao", *HR)
