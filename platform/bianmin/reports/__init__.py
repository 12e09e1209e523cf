"""Reports: pages with server-side SVG charts, appraisal explanations, CSV and Excel exports and
the registers (docs/accountability.md).

Public surface::

    await pages.build(jurisdiction, period) -> Report ; pages.html(report) ; pages.appraisal_html(report)
    charts.Chart(...) ; charts.figure(chart)          # SVG with <title>/<desc> and a data table
    export.tables(report) ; export.to_csv(table) ; export.to_xlsx(tables) ; await export.register_file(...)
    web.router(authorize, registry=None, layout=None) -> starlette Router  # mount at /desk/{jurisdiction}/reports
"""

from __future__ import annotations

from .charts import Chart, Series, figure
from .pages import Report, build
from .web import router

__all__ = ["Chart", "Report", "Series", "build", "figure", "router"]
