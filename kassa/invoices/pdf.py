"""An invoice or credit note as a PDF (fpdf2: pure Python, so the same document comes out of a
developer's machine, CI and the slim container, with the DejaVu fonts shipped beside this module
for every language the shop speaks)."""

import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from fpdf import FPDF
from fpdf.enums import TableBordersLayout, XPos, YPos
from fpdf.fonts import FontFace

from kassa.common.money import format_amount, from_minor
from kassa.invoices.models import Invoice

# fontTools logs every font subset it makes at INFO: nothing the shop's logs need.
logging.getLogger("fontTools").setLevel(logging.WARNING)

FONTS = Path(__file__).resolve().parent / "fonts"
_FONT = "DejaVu"
_GREY = (100, 100, 100)


class _Document(FPDF):
    def __init__(self, footer: str) -> None:
        super().__init__(format="A4")
        self._footer_text = footer
        self.add_font(_FONT, "", str(FONTS / "DejaVuSans.ttf"))
        self.add_font(_FONT, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
        self.set_margins(18, 18, 18)
        self.set_auto_page_break(True, margin=20)

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(_FONT, "", 8)
        self.set_text_color(*_GREY)
        self.cell(0, 5, self._footer_text, align="L")
        self.cell(0, 5, f"{self.page_no()}/{{nb}}", align="R")


def render(invoice: Invoice, *, payment_method: str = "") -> bytes:
    """The document's PDF, in the order's language."""
    data = invoice.data
    language = data.get("language") or "en"
    with translation.override(language):
        return _render(invoice, data, language, payment_method)


def _render(invoice: Invoice, data: dict[str, Any], language: str, payment_method: str) -> bytes:
    currency = invoice.currency

    def money(minor: int) -> str:
        return format_amount(from_minor(int(minor), currency), currency, language)

    title = _("Credit note") if invoice.is_credit_note else _("Invoice")
    label = _("Credit note no.") if invoice.is_credit_note else _("Invoice no.")
    seller: dict[str, Any] = data.get("seller") or {}
    pdf = _Document(footer=f"{seller.get('name', '')} · {label} {invoice.number}")
    pdf.set_title(f"{title} {invoice.number}")
    pdf.set_author(str(seller.get("name", "")))
    pdf.set_creator("Kassa")
    pdf.add_page()

    # Heading: the kind of document and its number, the seller on the right.
    pdf.set_font(_FONT, "B", 20)
    pdf.cell(100, 10, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(_FONT, "", 10)
    facts = [
        (label, invoice.number),
        (_("Date of issue"), _date(invoice.issued_at)),
        (_("Order"), f"#{data.get('order', invoice.order_id)}"),
    ]
    if invoice.is_credit_note:
        facts.append((_("Refers to invoice no."), str(data.get("refers_to", ""))))
    else:
        facts.append((_("Payment date"), _date(_parse(data.get("paid_at")))))
        if payment_method:
            facts.append((_("Payment method"), payment_method))
    facts.append((_("Currency"), currency.upper()))
    top = pdf.get_y() + 2
    pdf.set_y(top)
    for name, value in facts:
        pdf.set_text_color(*_GREY)
        pdf.cell(42, 5.5, name)
        pdf.set_text_color(0, 0, 0)
        pdf.cell(60, 5.5, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    after_facts = pdf.get_y()

    pdf.set_xy(118, top - 12)
    _party(pdf, _("Seller"), seller, x=118)
    seller_end = pdf.get_y()

    # The buyer.
    pdf.set_y(max(after_facts, seller_end) + 6)
    _party(pdf, _("Bill to"), data.get("buyer") or {}, x=pdf.l_margin)
    pdf.ln(6)

    if invoice.is_credit_note:
        _credit_note_body(pdf, data, money)
    else:
        _invoice_body(pdf, data, money, currency)
    return bytes(pdf.output())


def _party(pdf: FPDF, heading: str, party: dict[str, Any], *, x: float) -> None:
    pdf.set_x(x)
    pdf.set_font(_FONT, "B", 9)
    pdf.set_text_color(*_GREY)
    pdf.cell(80, 5, heading.upper(), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)
    lines: list[tuple[str, str]] = []
    for key in ("company", "name"):
        if party.get(key):
            lines.append(("B" if not lines else "", str(party[key])))
    address = [str(line) for line in party.get("address") or []]
    if address and address[0] == party.get("name"):
        address = address[1:]  # the address's name is the buyer's, said once
    lines += [("", line) for line in address]
    if party.get("email"):
        lines.append(("", str(party["email"])))
    if party.get("tax_id"):
        lines.append(("", _("Tax ID: %(id)s") % {"id": party["tax_id"]}))
    for style, text in lines:
        pdf.set_x(x)
        pdf.set_font(_FONT, style, 10)
        pdf.multi_cell(80, 5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _invoice_body(pdf: FPDF, data: dict[str, Any], money: Any, currency: str) -> None:
    pdf.set_font(_FONT, "", 10)
    with pdf.table(
        col_widths=(94, 18, 31, 31),
        text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT"),
        borders_layout=TableBordersLayout.HORIZONTAL_LINES,
        line_height=6.5,
        padding=(1.2, 1.5),
        headings_style=_heading_style(),
    ) as table:
        heading = table.row()
        for text in (_("Item"), _("Qty"), _("Unit price"), _("Amount")):
            heading.cell(text)
        for line in data.get("lines") or []:
            row = table.row()
            row.cell(str(line["name"]))
            row.cell(str(line["quantity"]))
            row.cell(money(line["unit"]))
            row.cell(money(line["amount"]))
    pdf.ln(4)

    rows: list[tuple[str, str, bool]] = [(_("Subtotal"), money(data["subtotal"]), False)]
    if data.get("discount"):
        name = data.get("discount_name") or _("Discount")
        rows.append(
            (_("Discount (%(name)s)") % {"name": name}, f"−{money(data['discount'])}", False)
        )
    for tax in data.get("taxes") or []:
        what = (
            _("%(name)s %(rate)s%% (included)")
            if tax.get("inclusive")
            else _("%(name)s %(rate)s%%")
        ) % {"name": tax["name"], "rate": tax["rate"]}
        rows.append((what, money(tax["amount"]), False))
    if data.get("shipping") or data.get("shipping_method"):
        method = data.get("shipping_method") or ""
        what = _("Shipping (%(method)s)") % {"method": method} if method else _("Shipping")
        rows.append((what, money(data.get("shipping") or 0), False))
    rows.append(
        (_("Total (%(currency)s)") % {"currency": currency.upper()}, money(data["total"]), True)
    )
    rows.append((_("Paid"), money(data["total"]), False))
    _totals(pdf, rows)


def _credit_note_body(pdf: FPDF, data: dict[str, Any], money: Any) -> None:
    pdf.set_font(_FONT, "", 10)
    pdf.multi_cell(
        0,
        5.5,
        _(
            "This credit note refunds part or all of invoice no. %(invoice)s "
            "(%(total)s). The amount below goes back to the means of payment used."
        )
        % {"invoice": data.get("refers_to", ""), "total": money(data.get("invoice_total", 0))},
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.ln(4)
    _totals(
        pdf,
        [
            (_("Credited"), f"−{money(data['credited'])}", True),
            (_("Refunded in all"), money(data.get("refunded_total", 0)), False),
        ],
    )


def _heading_style() -> FontFace:
    return FontFace(family=_FONT, emphasis="BOLD", color=_GREY)


def _totals(pdf: FPDF, rows: list[tuple[str, str, bool]]) -> None:
    for text, amount, strong in rows:
        pdf.set_font(_FONT, "B" if strong else "", 12 if strong else 10)
        if strong:
            pdf.set_draw_color(0, 0, 0)
            pdf.line(100, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
        pdf.set_x(100)
        pdf.cell(58, 7, text)
        pdf.cell(
            pdf.w - pdf.r_margin - 158, 7, amount, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )


def _parse(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _date(value: datetime | None) -> str:
    if value is None:
        return ""
    return formats.date_format(timezone.localtime(value), "DATE_FORMAT")
