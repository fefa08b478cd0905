"""The web application (FastAPI): the Make and Check pages, the API, the limits and the headers.

Pages are rendered on the server (:mod:`smm_sheets.web.pages`) and work without JavaScript.
Nothing is stored: each request's uploads and generated files live in a temporary folder that
is deleted when the request ends, whatever happens.
"""

from __future__ import annotations

import base64
import contextlib
import json
import tempfile
import threading
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Annotated, Any

import anyio
from fastapi import FastAPI, File, Form, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field, StrictBool, StrictStr
from starlette.exceptions import HTTPException as StarletteHTTPException

from smm_sheets import __version__
from smm_sheets.blueprint import loader
from smm_sheets.blueprint.params import option_pairs, option_values
from smm_sheets.errors import SmmSheetsError
from smm_sheets.web import i18n, isolation, pages, report_view, uploads

STATIC = Path(__file__).parent / "static"
# The README's pictures of the workbooks: docs/ of a checkout, or the copy a wheel carries.
PICTURES = next(
    (p for p in (Path(__file__).parents[2] / "docs", Path(__file__).parent / "pictures") if p.is_dir()),
    Path(__file__).parent / "pictures",
)
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Settings:
    """The limits of one server process. ``analysis`` also sets how many analyses run at once."""

    max_file_bytes: int = 20 * uploads.MB
    max_files: int = 10
    analysis: isolation.Limits = field(default_factory=isolation.Limits)

    @property
    def max_body_bytes(self) -> int:
        """A whole request: every file at its limit, and room for the form's fields."""
        return self.max_files * self.max_file_bytes + uploads.MB


class Refused(Exception):
    """A request we answer with an error page (or JSON under /api/): status, text key, values."""

    def __init__(
        self,
        status: int,
        key: str,
        headers: dict[str, str] | None = None,
        language: str | None = None,
        extra: dict[str, Any] | None = None,
        **values: Any,
    ):
        super().__init__(key)
        self.status, self.key, self.values, self.headers = status, key, values, headers or {}
        self.language, self.extra = language, extra or {}


@cache
def builtin_ids() -> list[str]:
    return [path.stem for path in loader.builtin_blueprints()]


def create_app(settings: Settings | None = None, runner: isolation.Runner | None = None) -> FastAPI:
    """The application; ``uvicorn smm_sheets.web.server:app`` serves it with the default settings."""
    settings = settings or Settings()
    runner = runner or isolation.Runner(settings.analysis)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        # The analyses' forkserver warms up (a few seconds) while the pages are already served.
        threading.Thread(target=runner.warm, name="smm-warm", daemon=True).start()
        yield

    app = FastAPI(
        lifespan=lifespan,
        title="smm-sheets",
        version=__version__,
        description="Make social media marketing workbooks and check filled-in ones. Nothing is stored.",
        docs_url=None,  # our own /docs page: Swagger UI needs a CDN and inline script
        redoc_url=None,
    )
    app.state.settings, app.state.runner = settings, runner
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _routes(app, settings, runner)
    _errors(app)
    app.add_middleware(_BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(_SecurityHeaders)
    return app


# --------------------------------------------------------------------------- pages


def _language(request: Request, requested: str | None = None) -> str:
    return i18n.choose(requested or request.query_params.get("lang"), request.headers.get("accept-language"))


def _page(
    request: Request, template: str, status: int = 200, language: str | None = None, **context: Any
) -> HTMLResponse:
    language = language or _language(request)
    html = pages.render(template, language, path=request.url.path, **context)
    return HTMLResponse(html, status_code=status, headers={"content-language": language})


def _workbooks(language: str) -> list[dict[str, str]]:
    titles = report_view.blueprint_titles()
    return [
        {"id": bp_id, "title": titles[bp_id][language][0], "description": titles[bp_id][language][1]}
        for bp_id in builtin_ids()
    ]


def _make_form(request: Request, language: str, values: dict[str, Any], error: str | None, status: int = 200):
    return _page(
        request,
        "make.html",
        status,
        language,
        workbooks=_workbooks(language),
        values=values,
        error=error,
        months=_month_names(language),
        workbook_options=_workbook_options(language),
    )


@cache
def _workbook_options(language: str) -> tuple[dict[str, Any], ...]:
    """The built-in blueprints' options for the Make page, each choice named by its blueprint's
    catalog in ``language``: a yes/no option is a checkbox, any other a select."""
    found: dict[str, dict[str, Any]] = {}
    for path in loader.builtin_blueprints():
        blueprint = loader.load(path)
        labels = blueprint.labels.get(language) or blueprint.labels["en"]
        for option in blueprint.options:
            choices = {c: labels.get(f"option.{option.id}.{c}", c) for c in option.choices}
            found.setdefault(
                option.id,
                {
                    "id": option.id,
                    "default": option.default,
                    "toggle": set(choices) == {"yes", "no"},
                    "hint": choices.get("yes", ""),
                    "choices": list(choices.items()),
                },
            )
    return tuple(found.values())


@cache
def _month_names(language: str) -> tuple[str, ...]:
    from smm_sheets.locale_data import month_names

    return month_names(language)


DEFAULT_FORM = {
    "workbook": "all",
    "company": "",
    "year": "",
    "start_month": "1",
    "currency": "EUR",
    "channels": "instagram,facebook",
    "team": "",
    "goals": "",
    "language": "",
    "sample": False,
    "options": {},
}


def _routes(app: FastAPI, settings: Settings, runner: isolation.Runner) -> None:
    @app.get("/", response_class=HTMLResponse, summary="The Make page: choose and download workbooks")
    def make_page(request: Request):
        language = _language(request)
        return _make_form(request, language, DEFAULT_FORM | {"language": language}, None)

    @app.post("/make", summary="Make the workbook or set chosen on the Make page (a form)")
    async def make_submit(
        request: Request,
        workbook: Annotated[str, Form()] = "all",
        company: Annotated[str, Form(max_length=20_000)] = "",
        year: Annotated[str, Form(max_length=100)] = "",
        start_month: Annotated[str, Form(max_length=100)] = "1",
        currency: Annotated[str, Form(max_length=100)] = "EUR",
        channels: Annotated[str, Form(max_length=20_000)] = "",
        team: Annotated[str, Form(max_length=20_000)] = "",
        goals: Annotated[str, Form(max_length=20_000)] = "",
        language: Annotated[str, Form(max_length=100)] = "en",
        sample: Annotated[str | None, Form(max_length=10)] = None,
        option: Annotated[list[str] | None, Form(max_length=200)] = None,
        lang: Annotated[str | None, Form(max_length=10)] = None,
    ):
        page_language = _language(request, lang)
        values = {
            "workbook": workbook,
            "company": company,
            "year": year,
            "start_month": start_month,
            "currency": currency,
            "channels": channels,
            "team": team,
            "goals": goals,
            "language": language,
            "sample": bool(sample),
            "options": {},
        }
        try:
            values["options"] = option_pairs(option or [], "option")  # KEY=VALUE, as the CLI's --option
            parameters = _parameters(values, form=True)
            return await _generate(workbook, parameters)
        except SmmSheetsError as error:
            return _make_form(request, page_language, values, _one_line(error), 422)

    @app.get("/check", response_class=HTMLResponse, summary="The Check page: upload filled-in workbooks")
    def check_page(request: Request):
        from smm_sheets.export.pipeline import FORMATS

        language = _language(request)
        return _page(request, "check.html", settings=settings, formats=FORMATS, statuses=_status_labels(language))

    @app.post("/check", response_class=HTMLResponse, summary="Check uploaded workbooks and show the report (a form)")
    async def check_submit(
        request: Request,
        files: Annotated[list[UploadFile] | None, File()] = None,
        lang: Annotated[str | None, Form(max_length=10)] = None,
    ):
        language = _language(request, lang)
        report = await _analyse(files or [], settings, runner, language)
        status = 422 if report["failures"] and not report["reports"] else 200
        views = [report_view.file_view(r, i18n.Texts(language)) for r in report["reports"]]
        for view in views:
            for chart in view.charts:
                chart.svg = pages.svg(chart.svg)
        data = base64.b64encode(json.dumps(report, ensure_ascii=False, indent=2).encode()).decode()
        return _page(
            request,
            "report.html",
            status,
            language,
            report=report,
            views=views,
            json_href=f"data:application/json;base64,{data}",
        )

    @app.get("/pictures/{blueprint_id}.png", summary="The picture of a built-in workbook")
    def picture(blueprint_id: str):
        if blueprint_id not in builtin_ids() or not (PICTURES / f"{blueprint_id}.png").is_file():
            raise StarletteHTTPException(404)
        return Response((PICTURES / f"{blueprint_id}.png").read_bytes(), media_type="image/png")

    @app.get("/docs", response_class=HTMLResponse, summary="The API, described (from /openapi.json)")
    def api_docs(request: Request):
        schema = app.openapi()
        return _page(request, "api.html", schema=schema, settings=settings)

    @app.get("/healthz", summary="For load balancers: 200 while the server answers")
    def health():
        return {"status": "ok", "version": __version__}

    @app.post(
        "/api/v1/generate",
        summary="Make a workbook (.xlsx) or the set of five (.zip)",
        responses={200: {"content": {XLSX: {}, "application/zip": {}}}, 422: {"description": "bad parameters"}},
    )
    async def api_generate(body: GenerateRequest):
        values = body.model_dump()
        try:
            return await _generate(body.workbook, _parameters(values))
        except SmmSheetsError as error:
            raise Refused(422, "error.parameters", message=_one_line(error)) from None

    @app.post(
        "/api/v1/analyse",
        summary="Analyse uploaded workbooks (or a .zip of one client's set): the JSON of analyse --format json",
        responses={413: {"description": "a file or the request too large"}, 503: {"description": "busy"}},
    )
    async def api_analyse(
        files: Annotated[list[UploadFile], File(description="workbooks, or a .zip of one client's set")],
        lang: Annotated[str | None, Form(max_length=10)] = None,
    ):
        return await _analyse(files, settings, runner, _api_language(lang))

    @app.post("/fix", summary="Download the corrected workbooks of the uploads (a form: .xlsx, or .zip for several)")
    async def fix_submit(
        request: Request,
        files: Annotated[list[UploadFile] | None, File()] = None,
        lang: Annotated[str | None, Form(max_length=10)] = None,
    ):
        return await _fix(files or [], settings, runner, _language(request, lang))

    @app.post("/export", summary="Download a calendar's posts in a scheduler's format (a form)")
    async def export_submit(
        request: Request,
        files: Annotated[list[UploadFile] | None, File()] = None,
        format: Annotated[str, Form(max_length=20)] = "ics",
        status: Annotated[list[str] | None, Form(max_length=200)] = None,
        since: Annotated[str, Form(max_length=40)] = "",
        until: Annotated[str, Form(max_length=40)] = "",
        timezone: Annotated[str, Form(max_length=100)] = "",
        date_order: Annotated[str, Form(max_length=20)] = "day",
        lang: Annotated[str | None, Form(max_length=10)] = None,
    ):
        language = _language(request, lang)
        options = _export_options(status, since, until, timezone, date_order, language)
        return await _export(files or [], format, settings, runner, language, options, page=True)

    @app.post(
        "/api/v1/fix",
        summary="Fix uploaded workbooks: the corrected .xlsx, or a .zip of them for several (smm-sheets fix)",
        responses={
            200: {"content": {XLSX: {}, "application/zip": {}}},
            413: {"description": "a file or the request too large"},
            422: {"description": "no upload could be fixed (JSON error with failures)"},
            503: {"description": "busy"},
        },
    )
    async def api_fix(
        files: Annotated[list[UploadFile], File(description="workbooks, or a .zip of one client's set")],
        lang: Annotated[str | None, Form(max_length=10)] = None,
    ):
        return await _fix(files, settings, runner, _api_language(lang))

    @app.post(
        "/api/v1/export",
        summary="Export an uploaded calendar's posts (smm-sheets export): the file, or a .zip when the format writes several",
        responses={
            200: {"content": {"text/calendar": {}, "text/csv": {}, "application/zip": {}}},
            413: {"description": "a file or the request too large"},
            422: {"description": "not a calendar, a bad format, or no post exported (JSON error with findings)"},
            503: {"description": "busy"},
        },
    )
    async def api_export(
        files: Annotated[list[UploadFile], File(description="one calendar workbook")],
        format: Annotated[str, Query(max_length=20, description="ics, hootsuite, sprout, publer or csv")] = "ics",
        status: Annotated[
            list[str] | None,
            Form(
                max_length=200,
                description="statuses to export (idea, draft, in_review, scheduled, published): the field "
                "repeated or comma-separated; none: every status (export --status)",
            ),
        ] = None,
        since: Annotated[str, Form(max_length=40, description="posts dated on or after YYYY-MM-DD (--since)")] = "",
        until: Annotated[str, Form(max_length=40, description="posts dated on or before YYYY-MM-DD (--until)")] = "",
        timezone: Annotated[
            str,
            Form(
                max_length=100,
                description="IANA zone of posts without one and of scheduler files (--timezone); "
                "empty: the workbook language's",
            ),
        ] = "",
        date_order: Annotated[
            str, Form(max_length=20, description="scheduler files' dates: day (31/12/2027) or month (12/31/2027)")
        ] = "day",
        lang: Annotated[str | None, Form(max_length=10)] = None,
    ):
        language = _api_language(lang)
        options = _export_options(status, since, until, timezone, date_order, language)
        return await _export(files, format, settings, runner, language, options)


def _status_name(text: str) -> str:
    return "_".join(text.strip().casefold().replace("-", " ").split())


@cache
def _status_names() -> dict[str, str]:
    """A status as people may type it -> its key: the key, or its label in any language of the calendar."""
    from smm_sheets.export.posts import STATUS_KEYS

    labels = loader.load("calendar").labels
    names = {key: key for key in STATUS_KEYS}
    for catalog in labels.values():
        names.update({_status_name(catalog[f"status.{key}"]): key for key in STATUS_KEYS if f"status.{key}" in catalog})
    return names


@cache
def _status_labels(language: str) -> list[tuple[str, str]]:
    """(key, label) of the calendar's post statuses, labelled as the calendar's dropdown in ``language``."""
    from smm_sheets.export.posts import STATUS_KEYS

    labels = loader.load("calendar").labels
    shown = labels.get(language) or labels.get("en", {})
    return [(key, shown.get(f"status.{key}", key)) for key in STATUS_KEYS]


def _api_language(lang: str | None) -> str | None:
    return lang.strip().lower() if lang and lang.strip().lower() in i18n.NAMES else None


class GenerateRequest(BaseModel):
    """The parameters of ``smm-sheets generate``."""

    workbook: str = Field("all", description="all, or a built-in id: budget, calendar, kpi-report, roadmap, strategy")
    company: str = Field("", max_length=20_000)
    year: int | None = None
    start_month: int = 1
    currency: str = Field("EUR", max_length=100)
    channels: str | list[str] = "instagram,facebook"
    team: str | list[str] = ""
    goals: str | list[str] = ""
    language: str = Field("en", max_length=100)
    sample: bool = False
    options: dict[str, StrictStr | StrictBool] = Field(
        default_factory=dict,
        description='blueprint options, e.g. {"carry_over": "positive", "opening_balance": true}',
    )


def _parameters(values: dict[str, Any], form: bool = False) -> dict[str, Any]:
    """The form's or the API's values as :func:`smm_sheets.generator.pipeline.generate_files` takes them.

    Args:
        form: from the Make page, which offers the built-in options whatever workbook is chosen:
            those the chosen workbook does not have are left out (the API refuses them); an
            option no built-in workbook has is refused.
    """
    from smm_sheets.errors import ParameterError

    workbook = values["workbook"]
    if workbook != "all" and workbook not in builtin_ids():  # never a path: only built-in blueprints
        raise ParameterError(f"unknown workbook {workbook[:40]!r}: use all or one of {', '.join(builtin_ids())}")
    parameters: dict[str, Any] = {"sample": bool(values.get("sample")), "language": values.get("language") or "en"}
    for key in ("company", "currency", "channels", "team", "goals"):
        value = values.get(key)
        if value not in (None, "", []):
            parameters[key] = value
    for key in ("year", "start_month"):
        value = values.get(key)
        if isinstance(value, str):
            value = value.strip()
            if not value:
                continue
            if not value.isdigit() or len(value) > 6:
                raise ParameterError(f"{key.replace('_', ' ')} must be a whole number, not {value[:20]!r}")
            value = int(value)
        if value is not None:
            parameters[key] = value
    options = option_values(values.get("options"))
    if form and workbook != "all":
        own = {option.id for option in loader.load(workbook).options}
        offered = {option["id"] for option in _workbook_options("en")}
        options = {key: value for key, value in options.items() if key in own or key not in offered}
    if options:
        parameters["options"] = options
    return parameters


async def _generate(workbook: str, parameters: dict[str, Any]) -> Response:
    """Generate into a temporary folder and answer with the file's bytes; the folder is then gone."""
    from smm_sheets.generator.pipeline import generate_files

    def run() -> tuple[bytes, str, str]:
        with tempfile.TemporaryDirectory(prefix="smm-web-") as folder:
            paths = generate_files(workbook, folder, **parameters)
            if workbook == "all":
                return uploads.zip_files(paths), "application/zip", "smm-sheets.zip"
            return paths[0].read_bytes(), XLSX, f"{workbook}.xlsx"

    content, media_type, name = await anyio.to_thread.run_sync(run, limiter=_generate_limiter())
    return Response(content, media_type=media_type, headers={"content-disposition": f'attachment; filename="{name}"'})


@cache
def _generate_limiter() -> anyio.CapacityLimiter:
    return anyio.CapacityLimiter(2)


async def _analyse(
    files: list[UploadFile], settings: Settings, runner: isolation.Runner, language: str | None
) -> dict[str, Any]:
    """Save the uploads in a temporary folder, analyse them in a child process, delete the folder."""

    def named(report: dict[str, Any], saved: list[uploads.Saved], folder: Path) -> dict[str, Any]:
        return _named(report, saved, str(folder))

    return await _in_worker(files, settings, runner, language, lambda saved, _: [str(s.path) for s in saved], named)


async def _in_worker(
    files: list[UploadFile],
    settings: Settings,
    runner: isolation.Runner,
    language: str | None,
    task: Any,
    collect: Any,
) -> Any:
    """Save the uploads in a temporary folder, run ``task(saved, folder)`` in a worker process,
    and ``collect(result, saved, folder)`` (which reads what the task wrote) before the folder is deleted."""
    files = [f for f in files if f.filename or (f.size or 0) > 0]
    if not files:
        raise Refused(400, "error.no_files", language=language)
    if len(files) > settings.max_files:
        raise Refused(413, "error.too_many", language=language, limit=settings.max_files)
    with tempfile.TemporaryDirectory(prefix="smm-web-") as name:
        folder = Path(name)
        try:
            saved = await anyio.to_thread.run_sync(_save_all, files, folder, settings)
        except uploads.TooLarge as error:
            raise Refused(
                413,
                "error.too_large",
                language=language,
                limit=settings.max_file_bytes // uploads.MB,
                detail=str(error),
            ) from None
        except uploads.BadUpload as error:
            raise Refused(422, "error.bad_zip", language=language, detail=str(error)) from None
        try:
            result = await runner.analyse(task(saved, folder), language)
        except isolation.Busy as error:
            raise Refused(
                503, "error.busy", language=language, headers={"retry-after": str(error.retry_after)}
            ) from None
        except isolation.AnalysisFailed as error:
            raise Refused(422, f"error.analysis_{error.reason}", language=language, detail=str(error)) from None
        return await anyio.to_thread.run_sync(collect, result, saved, folder)


async def _fix(files: list[UploadFile], settings: Settings, runner: isolation.Runner, language: str | None) -> Response:
    """The corrected workbook of each upload (``smm-sheets fix``): one .xlsx, or a .zip of several."""

    def task(saved: list[uploads.Saved], folder: Path) -> tuple:
        (folder / "fixed").mkdir()  # the fixer names its output after the input: never the input's folder
        return isolation.fix_task([str(s.path) for s in saved], str(folder / "fixed"))

    def collect(result: dict[str, Any], saved: list[uploads.Saved], folder: Path) -> Response:
        names = {str(s.path): s.name for s in saved}
        rename = _renamer(saved, folder)
        failures = [_about(names.get(f["source"], "?"), rename(f["error"])) for f in result["failures"]]
        if not result["fixed"]:
            raise Refused(
                422,
                "error.fix_failed",
                language=language,
                detail="; ".join(failures)[:2000],
                extra={"failures": failures},
            )
        files = [(Path(f["target"]), uploads.download_name(names[f["source"]], ".xlsx")) for f in result["fixed"]]
        headers = {
            "x-smm-fixed": str(len(files)),
            "x-smm-findings": _header_json(
                [
                    {"file": names[f["source"]], **{k: g[k] for k in ("severity", "sheet", "cell", "message")}}
                    for f in result["fixed"]
                    for g in f["findings"]
                ]
            ),
            "x-smm-failures": _header_json(failures),
        }
        if len(files) == 1 and not failures:
            return _download(files[0][0].read_bytes(), XLSX, files[0][1], headers)
        content = uploads.zip_named(files)
        if failures:  # the zip says itself which uploads it lacks and why
            note = folder / "not-fixed.txt"
            note.write_text("\n".join(failures) + "\n", encoding="utf-8")
            content = uploads.zip_named([*files, (note, "not-fixed.txt")])
        return _download(content, "application/zip", "smm-sheets-fixed.zip", headers)

    return await _in_worker(files, settings, runner, language, task, collect)


def _export_options(
    statuses: list[str] | None, since: str, until: str, timezone: str, date_order: str, language: str | None
) -> dict[str, Any]:
    """The export's options as ``smm_sheets.export`` takes them, checked here so that a bad one is
    a 422 naming the field (before any upload is read).

    Raises:
        Refused: 422 ``export_status``, ``export_date``, ``export_dates_order``, ``export_timezone``
            or ``export_date_order``.
    """
    import datetime as dt

    from smm_sheets.errors import ParameterError
    from smm_sheets.export.posts import STATUS_KEYS, zone_named

    keys = []
    known = _status_names()
    for item in (part for value in statuses or [] for part in value.split(",")):
        key = known.get(_status_name(item), _status_name(item))
        if not key:
            continue
        if key not in STATUS_KEYS:
            raise Refused(
                422,
                "error.export_status",
                language=language,
                value=_shown(item, 60),
                statuses=", ".join(STATUS_KEYS),
            )
        if key not in keys:
            keys.append(key)
    days: dict[str, str | None] = {}
    for name, value in (("since", since), ("until", until)):
        value = value.strip()
        days[name] = value or None
        if value:
            try:
                if len(value) != 10:
                    raise ValueError(value)
                dt.date.fromisoformat(value)
            except ValueError:
                raise Refused(
                    422,
                    "error.export_date",
                    language=language,
                    field=i18n.Texts(language or "en")(f"check.{name}"),
                    value=_shown(value, 40),
                ) from None
    if days["since"] and days["until"] and days["since"] > days["until"]:
        raise Refused(422, "error.export_dates_order", language=language, since=days["since"], until=days["until"])
    zone = timezone.strip() or None
    if zone:
        try:
            zone_named(zone)
        except ParameterError:
            raise Refused(422, "error.export_timezone", language=language, zone=_shown(zone, 100)) from None
    order = date_order.strip().lower() or "day"
    if order not in ("day", "month"):
        raise Refused(422, "error.export_date_order", language=language)
    return {
        "statuses": keys or None,
        "since": days["since"],
        "until": days["until"],
        "timezone": zone,
        "date_order": order,
    }


def _shown(text: str, limit: int) -> str:
    """Typed text quoted in an error: printable characters only, at most ``limit``."""
    text = "".join(ch for ch in text.strip() if ch.isprintable())
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def _export(
    files: list[UploadFile],
    format: str,
    settings: Settings,
    runner: isolation.Runner,
    language: str | None,
    options: dict[str, Any] | None = None,
    page: bool = False,
) -> Response:
    """One uploaded calendar's posts in ``format`` (``smm-sheets export``): the file, or a .zip of several.

    A zip also holds ``findings.txt``; so does the page's answer when a post was left out (then
    always a zip: a browser shows no header, and a post left out silently would be missed).
    """
    from smm_sheets.export.pipeline import FORMATS

    format = format.strip().lower()
    if format not in FORMATS:
        raise Refused(422, "error.export_format", language=language, formats=", ".join(FORMATS))
    suffix = ".ics" if format == "ics" else ".csv"

    def task(saved: list[uploads.Saved], folder: Path) -> tuple:
        if len(saved) != 1:
            raise Refused(422, "error.one_calendar", language=language)
        (folder / "export").mkdir()
        return isolation.export_task(
            str(saved[0].path), str(folder / "export" / f"posts{suffix}"), format, options or {}
        )

    def collect(result: dict[str, Any], saved: list[uploads.Saved], folder: Path) -> Response:
        rename = _renamer(saved, folder)
        if "error" in result:
            raise Refused(422, "error.export_failed", language=language, detail=rename(result["error"]))
        findings = [{**f, "message": rename(f["message"])} for f in result["findings"]]
        if not result["exported"]:
            lines = [f"{f['cell'] or ''} {f['message']}".strip() for f in findings]
            raise Refused(
                422,
                "error.nothing_exported",
                language=language,
                detail="; ".join(lines[:20])[:2000] or None,
                extra={"findings": findings},
            )
        stem = uploads.download_name(saved[0].name, "")
        headers = {"x-smm-exported": str(result["exported"]), "x-smm-findings": _header_json(findings)}
        paths = [Path(p) for p in result["paths"]]
        left_out = any(f["severity"] == "error" for f in findings)
        if len(paths) == 1 and not (page and left_out):
            media = "text/calendar; charset=utf-8" if format == "ics" else "text/csv; charset=utf-8"
            return _download(paths[0].read_bytes(), media, f"{stem}-{format}{suffix}", headers)
        # A scheduler's file per channel (or per so many posts): posts-<key>.csv -> <stem>-<format>-<key>.csv
        named = [(p, f"{stem}-{format}{p.name.removeprefix('posts')}") for p in paths]
        if findings:
            note = folder / "findings.txt"
            note.write_text("".join(_finding_line(f) + "\n" for f in findings), encoding="utf-8")
            named.append((note, "findings.txt"))
        return _download(uploads.zip_named(named), "application/zip", f"{stem}-{format}.zip", headers)

    return await _in_worker(files, settings, runner, language, task, collect)


def _finding_line(finding: dict[str, Any]) -> str:
    where = "!".join(p for p in (finding.get("sheet"), finding.get("cell")) if p)
    return f"{finding['severity']}\t{where}\t{finding['message']}"


def _about(name: str, error: str) -> str:
    return error if error.startswith(name) else f"{name}: {error}"


def _renamer(saved: list[uploads.Saved], folder: Path):
    """Text with people's file names where the worker saw our temporary paths."""
    names = sorted(((str(s.path), s.name) for s in saved), key=lambda pair: -len(pair[0]))

    def rename(text: str) -> str:
        for path, name in names:
            text = text.replace(path, name)
        return text.replace(str(folder), "")

    return rename


# A header carries findings while they are short; past this, only their number (the file is the answer).
HEADER_JSON_LIMIT = 6000


def _header_json(items: list[Any]) -> str:
    """``items`` as ASCII JSON for a response header (no line breaks, nothing but ASCII), or ``{"count": n}``."""
    text = json.dumps(items, ensure_ascii=True, separators=(",", ":"))
    return text if len(text) <= HEADER_JSON_LIMIT else json.dumps({"count": len(items)})


def _download(content: bytes, media_type: str, name: str, headers: dict[str, str]) -> Response:
    """A file to save as ``name``: an ASCII name for old clients, the UTF-8 one (RFC 6266) for the others."""
    from urllib.parse import quote

    plain = "".join(ch if ch.isascii() and (ch.isalnum() or ch in " .-_()") else "_" for ch in name)
    disposition = f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"
    return Response(content, media_type=media_type, headers={**headers, "content-disposition": disposition})


def _save_all(files: list[UploadFile], folder: Path, settings: Settings) -> list[uploads.Saved]:
    saved: list[uploads.Saved] = []
    for upload in files:
        name = uploads.display_name(upload.filename, f"file {len(saved) + 1}")
        path = uploads.save(upload.file, upload.filename, folder, len(saved) + 1, settings.max_file_bytes)
        if path.suffix == ".zip":
            unpacked = uploads.unpack_set(
                path, name, folder, len(saved) + 2, settings.max_files - len(saved), settings.max_file_bytes
            )
            path.unlink()
            saved.extend(unpacked)
        else:
            saved.append(uploads.Saved(path, name))
        if len(saved) > settings.max_files:
            raise uploads.TooLarge(f"more than {settings.max_files} workbooks")
    return saved


def _named(report: dict[str, Any], saved: list[uploads.Saved], folder: str) -> dict[str, Any]:
    """The report with people's file names where the analyser saw our temporary paths."""
    names = sorted(((str(s.path), s.name) for s in saved), key=lambda pair: -len(pair[0]))

    def rename(text: str) -> str:
        for path, name in names:
            text = text.replace(path, name)
        return text.replace(folder, "")

    for item in report["reports"]:
        item["file"] = rename(item["file"])
        for found in item["findings"]:
            found["message"] = rename(found["message"])
    for failure in report["failures"]:
        failure["file"], failure["error"] = rename(failure["file"]), rename(failure["error"])
    return report


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())[:500]


# --------------------------------------------------------------------------- errors


def _errors(app: FastAPI) -> None:
    def answer(
        request: Request,
        status: int,
        key: str,
        headers: dict[str, str] | None = None,
        language: str | None = None,
        extra: dict[str, Any] | None = None,
        **values: Any,
    ):
        language = language or _language(request)
        message = i18n.Texts(language)(key, **{k: v for k, v in values.items() if k != "detail"})
        detail = values.get("detail") or values.get("message")
        if request.url.path.startswith("/api/"):
            body = {"error": {"status": status, "code": key.removeprefix("error."), "message": message}}
            if detail:
                body["error"]["detail"] = detail
            body["error"].update(extra or {})
            return JSONResponse(body, status_code=status, headers=headers)
        response = _page(request, "error.html", status, language, code=status, message=message, detail=detail)
        response.headers.update(headers or {})
        return response

    @app.exception_handler(Refused)
    async def refused(request: Request, error: Refused):
        return answer(request, error.status, error.key, error.headers, error.language, error.extra, **error.values)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException):
        key = {404: "error.not_found", 405: "error.method", 413: "error.body_too_large"}.get(error.status_code)
        if key is None:
            key, detail = "error.request", str(error.detail)[:300]
        else:
            detail = None
        return answer(request, error.status_code, key, detail=detail, limit=app.state.settings.max_files)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError):
        if any("files" in e.get("loc", ()) for e in error.errors()):  # an empty file field
            return answer(request, 400, "error.no_files")
        details = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}" for e in error.errors()[:5]
        )
        return answer(request, 422, "error.request", detail=details[:500])


# --------------------------------------------------------------------------- middleware (plain ASGI)


class _SecurityHeaders:
    """CSP without inline script, no framing, no sniffing, no referrer, no caching: on every answer."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []), *(h for h in SECURITY_HEADERS if h[0] not in names)]
            await send(message)

        await self.app(scope, receive, with_headers)


class _BodyTooLarge(Exception):
    pass


class _BodyLimit:
    """Refuse a request body over the limit: at once by its Content-Length, else as it streams in."""

    def __init__(self, app: Any, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers", []))
        length = headers.get(b"content-length", b"")
        if length.isdigit() and int(length) > self.limit:
            return await self.refuse(scope, send)
        seen = 0
        started = over = False

        async def counting() -> dict:
            nonlocal seen, over
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    over = True
                    raise _BodyTooLarge
            return message

        async def tracking(message: dict) -> None:
            # Past the limit, whatever the app makes of the broken body is replaced by the 413.
            nonlocal started
            if message["type"] == "http.response.start":
                if started:
                    return
                started = True
                if over:
                    return await self.refuse(scope, send)
            elif over:
                return
            await send(message)

        try:
            await self.app(scope, counting, tracking)
        except _BodyTooLarge:
            if not started:
                await self.refuse(scope, send)

    async def refuse(self, scope: dict, send: Any) -> None:
        request = Request(scope)
        language = _language(request)
        message = i18n.Texts(language)("error.body_too_large")
        if scope["path"].startswith("/api/"):
            response: Response = JSONResponse(
                {"error": {"status": 413, "code": "body_too_large", "message": message}}, status_code=413
            )
        else:
            response = _page(request, "error.html", 413, language, code=413, message=message, detail=None)
        response.headers["connection"] = "close"
        await response({"type": "http", **scope}, _nothing, send)


async def _nothing() -> dict:
    return {"type": "http.disconnect"}
