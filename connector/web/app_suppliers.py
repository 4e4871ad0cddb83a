"""Suppliers, the SKUs each supplies (primary / alternative, cost), and their CSV import/export."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from connector.supply import suppliers as svc
from connector.supply.csv_rows import CsvImportError
from connector.web.app_common import reevaluate, shop_session
from connector.web.auth import login_required
from connector.web.forms import ActionForm, CsvForm, OfferForm, SupplierForm, errors_to_form

bp = Blueprint("app_suppliers", __name__, url_prefix="/app/suppliers")


def _input(form: SupplierForm) -> svc.SupplierInput:
    return svc.SupplierInput(
        name=form.name.data or "",
        email=form.email.data,
        phone=form.phone.data,
        lead_time_mean_days=float(form.lead_time_mean_days.data),
        lead_time_spread_days=float(form.lead_time_spread_days.data),
        dropship_capable=bool(form.dropship_capable.data),
        local=bool(form.local.data),
        urgent_unit_premium=form.urgent_unit_premium.data,
        urgent_lead_time_days=form.urgent_lead_time_days.data,
    )


@bp.get("")
@login_required
def index() -> ResponseReturnValue:
    with shop_session() as (s, shop):
        rows = svc.list_suppliers(s, shop.id)
    return render_template("app/suppliers.html", rows=rows, csv_form=CsvForm(), import_errors=None)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create() -> ResponseReturnValue:
    form = SupplierForm()
    if form.validate_on_submit():
        try:
            with shop_session() as (s, shop):
                row, _ = svc.save_supplier(s, shop.id, _input(form))
                supplier_id, name = row.id, row.name
        except svc.InvalidInput as exc:
            errors_to_form(form, exc.errors)
        else:
            flash(f"Supplier {name} added. Now add the SKUs it supplies.", "success")
            return redirect(url_for(".edit", supplier_id=supplier_id))
    return render_template(
        "app/supplier_form.html", form=form, supplier=None, offers=[], offer_form=None, action_form=None
    ), 422 if form.errors else 200


@bp.route("/<int:supplier_id>", methods=["GET", "POST"])
@login_required
def edit(supplier_id: int) -> ResponseReturnValue:
    with shop_session() as (s, shop):
        try:
            row = svc.get_supplier(s, shop.id, supplier_id)
        except svc.NotFound:
            abort(404)
        form = SupplierForm(obj=row)
        if form.validate_on_submit():
            try:
                with s.begin_nested():
                    _, skus = svc.save_supplier(s, shop.id, _input(form), supplier_id)
                    reevaluate(s, shop, skus)
            except svc.InvalidInput as exc:
                errors_to_form(form, exc.errors)
            else:
                flash("Supplier saved.", "success")
                return redirect(url_for(".edit", supplier_id=supplier_id))
        offers = svc.offers_of(s, shop.id, supplier_id)
        return render_template(
            "app/supplier_form.html",
            form=form,
            supplier=row,
            offers=offers,
            offer_form=OfferForm(formdata=None),
            action_form=ActionForm(),
        ), (422 if form.errors else 200)


@bp.post("/<int:supplier_id>/offers")
@login_required
def add_offer(supplier_id: int) -> ResponseReturnValue:
    offer_form = OfferForm()
    with shop_session() as (s, shop):
        try:
            row = svc.get_supplier(s, shop.id, supplier_id)
        except svc.NotFound:
            abort(404)
        if offer_form.validate_on_submit():
            data = svc.OfferInput(
                sku=(offer_form.sku.data or "").strip(),
                cost=offer_form.cost.data,
                lead_time_days=offer_form.lead_time_days.data,
                primary=offer_form.primary.data == "primary",
            )
            try:
                with s.begin_nested():
                    svc.save_offer(s, shop.id, supplier_id, data)
                    reevaluate(s, shop, {data.sku})
            except svc.InvalidInput as exc:
                errors_to_form(offer_form, exc.errors)
            else:
                flash(f"{data.sku} is now supplied by {row.name}.", "success")
                return redirect(url_for(".edit", supplier_id=supplier_id, _anchor="offers"))
        form = SupplierForm(obj=row, formdata=None)
        offers = svc.offers_of(s, shop.id, supplier_id)
        return render_template(
            "app/supplier_form.html",
            form=form,
            supplier=row,
            offers=offers,
            offer_form=offer_form,
            action_form=ActionForm(),
        ), 422


@bp.post("/offers/<int:offer_id>/delete")
@login_required
def delete_offer(offer_id: int) -> ResponseReturnValue:
    if not ActionForm().validate_on_submit():
        abort(400)
    with shop_session() as (s, shop):
        try:
            sku, supplier_id = svc.delete_offer(s, shop.id, offer_id)
        except svc.NotFound:
            abort(404)
        reevaluate(s, shop, {sku})
    flash(f"{sku} removed from this supplier.", "success")
    return redirect(url_for(".edit", supplier_id=supplier_id, _anchor="offers"))


@bp.post("/<int:supplier_id>/delete")
@login_required
def delete(supplier_id: int) -> ResponseReturnValue:
    if not ActionForm().validate_on_submit():
        abort(400)
    with shop_session() as (s, shop):
        try:
            skus = svc.delete_supplier(s, shop.id, supplier_id)
        except svc.NotFound:
            abort(404)
        reevaluate(s, shop, skus)
    flash("Supplier deleted.", "success")
    return redirect(url_for(".index"))


@bp.get("/offers.csv")
@login_required
def export_offers() -> ResponseReturnValue:
    with shop_session() as (s, shop):
        text = svc.offers_csv(s, shop.id)
    return Response(
        text, mimetype="text/csv", headers={"Content-Disposition": 'attachment; filename="skus-to-suppliers.csv"'}
    )


@bp.post("/offers.csv")
@login_required
def import_offers() -> ResponseReturnValue:
    csv_form = CsvForm()
    import_errors: list[tuple[int, str]] | None = None
    if csv_form.validate_on_submit():
        text = _decode(csv_form.file.data.read())
        try:
            with shop_session() as (s, shop):
                result = svc.import_offers_csv(s, shop.id, text) if text is not None else None
                if result is None:
                    raise CsvImportError([(1, "the file is not UTF-8 text")])
                reevaluate(s, shop, result.skus)
        except CsvImportError as exc:
            import_errors = exc.errors
        else:
            flash(f"Imported: {result.created} new, {result.updated} updated SKU offers.", "success")
            return redirect(url_for(".index"))
    with shop_session() as (s, shop):
        rows = svc.list_suppliers(s, shop.id)
    return render_template("app/suppliers.html", rows=rows, csv_form=csv_form, import_errors=import_errors), 422


def _decode(data: bytes) -> str | None:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
