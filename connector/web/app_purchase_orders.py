"""Purchase orders: create, edit, approve, receive (which starts the shipping cycle), CSV import/export."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from connector.shops.shop_days import shop_today
from connector.supply import purchase_orders as svc
from connector.supply.csv_rows import CsvImportError
from connector.supply.receiving import ReceiveError, receive_purchase_order
from connector.supply.suppliers import InvalidInput, NotFound, list_suppliers
from connector.web.app_common import reevaluate, services, shop_session
from connector.web.auth import login_required
from connector.web.forms import ActionForm, CsvForm, PurchaseOrderForm, errors_to_form

bp = Blueprint("app_purchase_orders", __name__, url_prefix="/app/purchase-orders")


def _supplier_choices(s, shop_id: int) -> list[tuple[int, str]]:  # type: ignore[no-untyped-def]
    return [(row.id, row.name) for row, _ in list_suppliers(s, shop_id)]


def _input(form: PurchaseOrderForm) -> svc.PurchaseOrderInput:
    return svc.PurchaseOrderInput(
        reference=form.reference.data or "",
        expected_on=form.expected_on.data,
        lines=form.line_values(),
        supplier_id=form.supplier_id.data,
        ordered_on=form.ordered_on.data,
        draft=bool(form.draft.data),
    )


@bp.get("")
@login_required
def index(csv_form: CsvForm | None = None, import_errors: list | None = None) -> ResponseReturnValue:
    with shop_session() as (s, shop):
        orders = svc.list_purchase_orders(s, shop.id)
        names = dict(_supplier_choices(s, shop.id))
        return render_template(
            "app/purchase_orders.html",
            orders=orders,
            names=names,
            csv_form=csv_form or CsvForm(),
            import_errors=import_errors,
            action_form=ActionForm(),
        )


def _save(form: PurchaseOrderForm, po_id: int | None) -> ResponseReturnValue | None:
    if not form.validate_on_submit():
        return None
    try:
        with shop_session() as (s, shop):
            po, skus = svc.save_purchase_order(s, shop.id, _input(form), services().clock(), po_id)
            reevaluate(s, shop, skus)
            reference = po.reference
    except InvalidInput as exc:
        errors_to_form(form, exc.errors)
        return None
    flash(f"Purchase order {reference} saved; promises of the SKUs on it were updated.", "success")
    return redirect(url_for(".index"))


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create() -> ResponseReturnValue:
    form = PurchaseOrderForm()
    with shop_session() as (s, shop):
        form.set_suppliers(_supplier_choices(s, shop.id))
    if request.method == "GET" and request.args.get("supplier"):
        form.supplier_id.data = request.args.get("supplier", type=int)
    done = _save(form, None)
    if done is not None:
        return done
    return render_template("app/purchase_order_form.html", form=form, po=None), 422 if form.errors else 200


@bp.route("/<int:po_id>", methods=["GET", "POST"])
@login_required
def edit(po_id: int) -> ResponseReturnValue:
    with shop_session() as (s, shop):
        try:
            po = svc.get_purchase_order(s, shop.id, po_id)
        except NotFound:
            abort(404)
        form = PurchaseOrderForm(obj=po)  # a POST's form data wins over the stored values
        if request.method == "GET":
            while len(form.lines.entries) < len(po.lines) + 2:
                form.lines.append_entry()
        form.set_suppliers(_supplier_choices(s, shop.id))
        view = {
            "id": po.id,
            "reference": po.reference,
            "received_on": po.received_on,
            "draft": po.draft,
            "lines": [(li.sku, li.quantity, li.received_quantity) for li in po.lines],
        }
    done = _save(form, po_id)
    if done is not None:
        return done
    return render_template(
        "app/purchase_order_form.html", form=form, po=view, action_form=ActionForm()
    ), 422 if form.errors else 200


@bp.post("/<int:po_id>/receive")
@login_required
def receive(po_id: int) -> ResponseReturnValue:
    if not ActionForm().validate_on_submit():
        abort(400)
    quantities: dict[str, int] | None = None
    if request.form.get("partial"):
        try:
            quantities = {k.removeprefix("qty:"): int(v or 0) for k, v in request.form.items() if k.startswith("qty:")}
        except ValueError:
            flash("Received quantities must be whole numbers.", "error")
            return redirect(url_for(".edit", po_id=po_id))
    try:
        with shop_session() as (s, shop):
            try:
                svc.get_purchase_order(s, shop.id, po_id)
            except NotFound:
                abort(404)
            result = receive_purchase_order(s, shop, po_id, services().clock(), quantities)
            reevaluate(s, shop, ())
    except ReceiveError as exc:
        flash(f"Nothing received: {exc}", "error")
        return redirect(url_for(".edit", po_id=po_id))
    units = ", ".join(f"{q} × {sku}" for sku, q in sorted(result.units.items()))
    flash(
        f"Received {units}. {result.evaluation.backordered_lines} line(s) still wait; the store ships the rest.",
        "success",
    )
    return redirect(url_for(".index"))


@bp.post("/<int:po_id>/approve")
@login_required
def approve(po_id: int) -> ResponseReturnValue:
    if not ActionForm().validate_on_submit():
        abort(400)
    with shop_session() as (s, shop):
        try:
            skus = svc.approve_purchase_order(s, shop.id, po_id, shop_today(shop, services().clock()))
        except NotFound:
            abort(404)
        reevaluate(s, shop, skus)
    flash("Purchase order approved: its stock now counts as incoming.", "success")
    return redirect(url_for(".index"))


@bp.post("/<int:po_id>/delete")
@login_required
def delete(po_id: int) -> ResponseReturnValue:
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        with shop_session() as (s, shop):
            try:
                skus = svc.delete_purchase_order(s, shop.id, po_id)
            except NotFound:
                abort(404)
            reevaluate(s, shop, skus)
    except InvalidInput as exc:
        flash("; ".join(exc.errors.values()), "error")
        return redirect(url_for(".edit", po_id=po_id))
    flash("Purchase order deleted.", "success")
    return redirect(url_for(".index"))


@bp.get("/export.csv")
@login_required
def export_csv() -> ResponseReturnValue:
    with shop_session() as (s, shop):
        text = svc.purchase_orders_csv(s, shop.id)
    return Response(
        text, mimetype="text/csv", headers={"Content-Disposition": 'attachment; filename="purchase-orders.csv"'}
    )


@bp.post("/import")
@login_required
def import_csv() -> ResponseReturnValue:
    csv_form = CsvForm()
    errors: list[tuple[int, str]] | None = None
    if csv_form.validate_on_submit():
        try:
            text = csv_form.file.data.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            errors = [(1, "the file is not UTF-8 text")]
        else:
            try:
                with shop_session() as (s, shop):
                    result = svc.import_purchase_orders_csv(s, shop.id, text, services().clock())
                    reevaluate(s, shop, result.skus)
            except CsvImportError as exc:
                errors = exc.errors
            else:
                flash(f"Imported {result.created} purchase order(s) with {result.lines} line(s).", "success")
                return redirect(url_for(".index"))
    response = index(csv_form=csv_form, import_errors=errors)
    return response, 422  # type: ignore[return-value]
