"""A first guess at an item's category from its words; the person saving the programme can change it."""

KEYWORDS = {
    "political": ("政治", "思想", "引领", "宣讲", "学习", "宣传", "党建", "意识形态", "初心"),
    "skills": ("技能", "竞赛", "产改", "建功", "工匠", "劳模", "创新成果", "职业", "人才", "匠心"),
    "rights": ("权益", "维权", "法律", "协商", "劳动关系", "集体合同", "安全", "劳动保护", "安心", "普法"),
    "services": ("帮扶", "慰问", "关爱", "困难", "救助", "服务", "送清凉", "送温暖", "普惠", "暖心", "疗休养"),
    "culture": ("文体", "文化", "文艺", "体育", "读书", "书屋"),
    "organisation": ("组织", "建会", "会员", "自身建设", "基层", "职工之家", "干部", "同心"),
    "reform": ("改革", "创新", "数字", "网上工会"),
}
DEFAULT = "services"


def category_of(title, body=""):
    """The category whose words occur most in the title, then in the body."""
    for text in (title, body):
        scores = {category: sum(text.count(word) for word in words) for category, words in KEYWORDS.items()}
        best = max(scores, key=scores.get)
        if scores[best]:
            return best
    return DEFAULT
