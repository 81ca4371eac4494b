"""The 进展情况通报 as a Word document laid out as a 公文 (GB/T 9704-2012), built with python-docx.

A4; margins 37 mm top, 35 mm bottom, 28 mm left (binding side), 26 mm
right; body in 仿宋_GB2312 三号 (16 pt) at a fixed 28.95 pt line (22 lines a
page), title in 方正小标宋简体 二号, first-level headings in 黑体, second-level
in 楷体_GB2312; page numbers "— 1 —" in 宋体 四号, odd pages on the right and
even pages on the left, one character in. Computers without the GB fonts use
the alternates named in the document's font table (仿宋, 宋体, 黑体, 楷体).

The text is Chinese whatever the interface language: a 公文 is a Chinese
document by its standard. Its figures all come from figures.bulletin_figures().

PDF: not offered. No well-kept Python library renders a .docx to PDF
without LibreOffice or a browser; drawing a second layout with ReportLab
would need the GB fonts (which are licensed, not ours to ship) embedded, and
would be a second document to keep equal to this one. A reader who needs a
PDF saves this file as PDF in Word or WPS, which also keeps its fonts.
"""

import io

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Mm, Pt, RGBColor
from lxml import etree

from ..models import Target

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

TITLE_FONT, HEADING_FONT, SUBHEADING_FONT, BODY_FONT, NUMBER_FONT = (
    "方正小标宋简体", "黑体", "楷体_GB2312", "仿宋_GB2312", "宋体",
)
# The alternates Word and WPS use where the GB fonts are not installed, named in the font table.
FALLBACKS = {
    "方正小标宋简体": "宋体", "仿宋_GB2312": "仿宋", "楷体_GB2312": "楷体", "黑体": "SimHei", "宋体": "SimSun",
}
LATIN_FONT = "Times New Roman"
BODY_SIZE, TITLE_SIZE, TABLE_SIZE, PAGE_NUMBER_SIZE = Pt(16), Pt(22), Pt(10.5), Pt(14)
LINE = Pt(28.95)
MARK_COLOURS = {"red": RGBColor(0xC6, 0x28, 0x28), "amber": RGBColor(0xE0, 0x9A, 0x00), "green": RGBColor(0x2E, 0x7D, 0x32)}
MARK_WORDS = {"red": "红", "amber": "黄", "green": "绿"}
CHINESE_DIGITS = "零一二三四五六七八九"


def chinese_ordinal(n):
    """1 → 一, 10 → 十, 12 → 十二, 21 → 二十一 (up to 99), as 公文 headings number their parts."""
    tens, ones = divmod(n, 10)
    text = ("" if tens == 0 else ("" if tens == 1 else CHINESE_DIGITS[tens]) + "十") + (CHINESE_DIGITS[ones] if ones else "")
    return text or CHINESE_DIGITS[0]


def chinese_date(day):
    return f"{day.year}年{day.month}月{day.day}日"


def percent(value):
    return "—" if value is None else f"{value:.1f}%"


def set_fonts(run_or_style, east_asian, size=None, bold=None):
    """The Latin font and the East-Asian one, which Word reads from w:eastAsia alone."""
    font = run_or_style.font
    font.name = LATIN_FONT
    if size is not None:
        font.size = size
    if bold is not None:
        font.bold = bold
    element = run_or_style.element
    rpr = element.get_or_add_rPr()
    fonts = rpr.get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), east_asian)
    fonts.set(qn("w:hint"), "eastAsia")


def run(paragraph, text, east_asian=BODY_FONT, size=BODY_SIZE, bold=None, colour=None):
    added = paragraph.add_run(text)
    set_fonts(added, east_asian, size, bold)
    if colour is not None:
        added.font.color.rgb = colour
    return added


def paragraph(document, text="", *, east_asian=BODY_FONT, size=BODY_SIZE, indent=True, align=None):
    added = document.add_paragraph()
    fmt = added.paragraph_format
    fmt.line_spacing = LINE
    fmt.space_before = fmt.space_after = Pt(0)
    if indent:
        fmt.first_line_indent = Pt(32)
    if align is not None:
        added.alignment = align
    if text:
        run(added, text, east_asian, size)
    return added


def name_fallbacks(document):
    """Adds each GB font with its alternate (w:altName) to the document's font table."""
    for part in document.part.package.iter_parts():
        if str(part.partname) != "/word/fontTable.xml":
            continue
        table = parse_xml(part.blob)
        for name, alternate in FALLBACKS.items():
            table.append(parse_xml(
                f'<w:font {nsdecls("w")} w:name="{name}"><w:altName w:val="{alternate}"/>'
                f'<w:charset w:val="86"/><w:family w:val="auto"/><w:pitch w:val="variable"/></w:font>'
            ))
        # A generic part keeps its bytes in _blob; python-docx has no font-table class to write through.
        part._blob = etree.tostring(table, xml_declaration=True, encoding="UTF-8", standalone=True)


def page_number(footer, align):
    """"— n —" with a PAGE field, one character in from the edge it sits at."""
    para = footer.paragraphs[0]
    para.alignment = align
    if align == WD_ALIGN_PARAGRAPH.RIGHT:
        para.paragraph_format.right_indent = PAGE_NUMBER_SIZE
    else:
        para.paragraph_format.left_indent = PAGE_NUMBER_SIZE
    run(para, "— ", NUMBER_FONT, PAGE_NUMBER_SIZE)
    field = run(para, "", NUMBER_FONT, PAGE_NUMBER_SIZE)
    for kind, text in (("begin", None), ("instr", " PAGE "), ("separate", None), ("text", "1"), ("end", None)):
        if kind == "instr":
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        elif kind == "text":
            element = OxmlElement("w:t")
            element.text = text
        else:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        field._r.append(element)
    run(para, " —", NUMBER_FONT, PAGE_NUMBER_SIZE)


def layout(document):
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    # The page number's top is 7 mm below the text block (GB/T 9704 7.5).
    section.footer_distance = Mm(35 - 7 - 5)
    document.settings.odd_and_even_pages_header_footer = True
    page_number(section.footer, WD_ALIGN_PARAGRAPH.RIGHT)
    page_number(section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)
    normal = document.styles["Normal"]
    set_fonts(normal, BODY_FONT, BODY_SIZE)
    name_fallbacks(document)


def mark_run(para, mark, size=BODY_SIZE):
    """A coloured ● and its word (红/黄/绿), which still reads in black and white."""
    if mark is None:
        return run(para, "—", size=size)
    run(para, "●", size=size, colour=MARK_COLOURS[mark])
    return run(para, MARK_WORDS[mark], size=size)


def summary_sentence(bulletin):
    totals = bulletin.totals
    head = f"截至{chinese_date(bulletin.as_of)}，{bulletin.region.name}{bulletin.year}年为职工办实事项目"
    if totals is None:
        return head + "尚无指标。"
    text = (
        f"{head}共有指标{totals['targets']}项，其中已完成{totals['achieved']}项、进行中{totals['on_track']}项、"
        f"未开始{totals['not_started']}项、滞后{totals['behind']}项、逾期{totals['overdue']}项"
    )
    if totals["reported"]:
        text += f"，另有无目标值、已填报数据的指标{totals['reported']}项"
    if totals["mean_completion"] is not None:
        text += f"；有目标值的指标平均完成率为{percent(totals['mean_completion'])}"
    return text + "。"


def rates_sentence(bulletin):
    """The overall reporting and on-time rates of issue 16's completeness figures, and the range across
    districts; nothing where no reporting period has fallen due yet."""
    overall = bulletin.rates.get(None) or {}
    if overall.get("reporting_rate") is None:
        return None
    text = (
        f"报送情况：截至{chinese_date(bulletin.as_of)}应报送{overall['expected']}期次，已报送{overall['reported']}期次，"
        f"报送率{percent(overall['reporting_rate'])}，按时报送率{percent(overall['on_time_rate'])}"
    )
    rates = [g["reporting_rate"] for g in bulletin.ranking if g["reporting_rate"] is not None]
    if len(rates) > 1:
        text += f"；各地报送率为{percent(min(rates))}至{percent(max(rates))}"
    return text + "。"


def group_name(bulletin, group):
    return f"{group['name']}（本级）" if group["key"] == bulletin.region.code else group["name"]


RANKING_COLUMNS = ("名次", "地区", "指标数", "已完成", "进行中", "未开始", "滞后", "逾期", "平均完成率", "报送率", "标识")


def ranking_table(document, bulletin):
    table = document.add_table(rows=1, cols=len(RANKING_COLUMNS))
    table.style = document.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    header = table.rows[0]
    # Repeated at the top of each page the table runs onto.
    header._tr.get_or_add_trPr().append(parse_xml(f'<w:tblHeader {nsdecls("w")}/>'))
    for cell, title in zip(header.cells, RANKING_COLUMNS):
        cell_text(cell, title, east_asian=HEADING_FONT)
    for rank, group in enumerate(bulletin.ranking, start=1):
        cells = table.add_row().cells
        values = (
            str(rank), group_name(bulletin, group), str(group["targets"]), str(group["achieved"]),
            str(group["on_track"]), str(group["not_started"]), str(group["behind"]), str(group["overdue"]),
            percent(group["mean_completion"]), percent(group["reporting_rate"]),
        )
        for cell, value in zip(cells, values):
            cell_text(cell, value)
        para = cells[-1].paragraphs[0]
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER
        mark_run(para, group["mark"], TABLE_SIZE)
    return table


def cell_text(cell, text, east_asian=BODY_FONT):
    para = cell.paragraphs[0]
    para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run(para, text, east_asian, TABLE_SIZE)


def lagging_line(number, target):
    status = Target.Status(target.status).label
    return (
        f"{number}. {target.code} {target.name}（{target.item.number}. {target.item.title}）："
        f"完成{percent(target.completion or 0.0)}，按时间应完成{percent(target.expected)}，{status}。"
    )


def build(bulletin):
    """The bulletin as .docx bytes."""
    document = Document()
    layout(document)
    core = document.core_properties
    title = f"关于{bulletin.year}年为职工办实事项目进展情况的通报"
    core.title, core.author, core.language = title, bulletin.issuer, "zh-CN"

    heading = paragraph(document, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
    run(heading, title, TITLE_FONT, TITLE_SIZE)
    paragraph(document, indent=False)
    paragraph(document, "各有关单位：", indent=False)

    paragraph(document, "一、总体情况", east_asian=HEADING_FONT)
    paragraph(document, summary_sentence(bulletin))
    if sentence := rates_sentence(bulletin):
        paragraph(document, sentence)

    paragraph(document, "二、各地进展排名", east_asian=HEADING_FONT)
    paragraph(document, (
        "按有目标值指标的平均完成率（尚无进度的计为0，未封顶）排列。标识：●红，有逾期指标或三分之一以上指标滞后；"
        "●黄，有滞后指标；●绿，无滞后、逾期指标。"
    ))
    if bulletin.ranking:
        ranking_table(document, bulletin)
    else:
        paragraph(document, "暂无。")

    paragraph(document, "三、滞后事项", east_asian=HEADING_FONT)
    listed = [group for group in bulletin.ranking if group["key"] in bulletin.lagging]
    if not listed:
        paragraph(document, "各地均无滞后、逾期指标。")
    for n, group in enumerate(listed, start=1):
        paragraph(document, f"（{chinese_ordinal(n)}）{group_name(bulletin, group)}", east_asian=SUBHEADING_FONT)
        lagging = bulletin.lagging[group["key"]]
        for number, target in enumerate(lagging["shown"], start=1):
            para = paragraph(document)
            mark_run(para, "red" if target.status == Target.Status.OVERDUE else "amber")
            run(para, " " + lagging_line(number, target))
        if lagging["more"]:
            paragraph(document, f"另有{lagging['more']}项滞后或逾期指标，未逐一列出。")

    paragraph(document, indent=False)
    signature = paragraph(document, indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT)
    signature.paragraph_format.right_indent = Pt(64)
    run(signature, bulletin.issuer)
    dated = paragraph(document, indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT)
    dated.paragraph_format.right_indent = Pt(64)
    run(dated, chinese_date(bulletin.as_of))

    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def filename(bulletin):
    return f"{bulletin.region.name}{bulletin.year}年实事项目进展情况通报（截至{bulletin.as_of.isoformat()}）.docx"
