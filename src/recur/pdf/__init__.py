"""Invoice PDFs: an HTML template rendered by WeasyPrint."""

from recur.pdf.invoice import render_invoice_html, render_invoice_pdf

__all__ = ["render_invoice_html", "render_invoice_pdf"]
