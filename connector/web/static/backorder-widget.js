/*
 * Backorder Connector storefront widget: shows "In stock" or "Ships by <date>" on a product page.
 *
 *   <script src="https://YOUR-CONNECTOR/static/backorder-widget.js" defer></script>
 *   <div data-backorder-eta data-platform="shopify" data-shop="your-shop.myshopify.com"
 *        data-sku="TEE-M"></div>                       (or data-variant="<variant id>")
 *
 * Optional attributes: data-quantity, data-label-in-stock, data-label-ships-by ("Ships by {date}"),
 * data-label-sold-out, data-locale (default: the page's lang). The element gets the class
 * "bc-eta--in_stock" / "bc-eta--backorder" / "bc-eta--sold_out" / "bc-eta--untracked" for styling; a SKU the
 * shop does not have (status "unknown") shows nothing. Call
 * window.BackorderEta.refresh(element) after changing data-sku / data-variant (variant pickers).
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = script ? new URL(script.src, document.baseURI).origin : "";

  function label(el, name, fallback) {
    return el.getAttribute("data-label-" + name) || fallback;
  }

  function formatDate(iso, locale) {
    var parts = iso.split("-").map(Number);
    var date = new Date(Date.UTC(parts[0], parts[1] - 1, parts[2]));
    try {
      return new Intl.DateTimeFormat(locale || undefined, { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" }).format(date);
    } catch (e) {
      return iso;
    }
  }

  function url(el) {
    var platform = el.getAttribute("data-platform") || "shopify";
    var shop = el.getAttribute("data-shop");
    var sku = el.getAttribute("data-sku");
    var variant = el.getAttribute("data-variant");
    var quantity = el.getAttribute("data-quantity");
    var root = (el.getAttribute("data-endpoint") || base) + "/storefront/" + encodeURIComponent(platform) + "/" + encodeURIComponent(shop) + "/availability";
    var query = [];
    if (quantity) query.push("quantity=" + encodeURIComponent(quantity));
    if (sku) return root + "/" + encodeURIComponent(sku) + (query.length ? "?" + query.join("&") : "");
    query.push("variant=" + encodeURIComponent(variant));
    return root + "?" + query.join("&");
  }

  function render(el, data) {
    var locale = el.getAttribute("data-locale") || document.documentElement.lang;
    var text;
    if (data.status === "backorder" && data.ships_by) {
      text = label(el, "ships-by", "Ships by {date}").replace("{date}", formatDate(data.ships_by, locale));
      if (data.window && data.window.p50 !== data.ships_by) {
        el.title = "Most likely " + formatDate(data.window.p50, locale);
      }
    } else if (data.status === "sold_out") {
      text = label(el, "sold-out", "Sold out");
    } else if (data.status === "in_stock" || data.status === "untracked") {
      text = label(el, "in-stock", "In stock");
    } else {  // "unknown" (no such SKU in the shop) or anything newer than this script: claim nothing
      text = "";
    }
    el.textContent = text;
    el.className = (el.className.replace(/\bbc-eta--\S+/g, "") + " bc-eta bc-eta--" + data.status).trim();
    el.setAttribute("data-status", data.status);
  }

  function refresh(el) {
    if (!el.getAttribute("data-shop") || !(el.getAttribute("data-sku") || el.getAttribute("data-variant"))) return;
    el.setAttribute("aria-live", "polite");
    fetch(url(el), { credentials: "omit" })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (data) { render(el, data); })
      .catch(function () { el.textContent = ""; el.setAttribute("data-status", "unknown"); });
  }

  function init() {
    var nodes = document.querySelectorAll("[data-backorder-eta]");
    for (var i = 0; i < nodes.length; i++) refresh(nodes[i]);
  }

  window.BackorderEta = { refresh: refresh, init: init };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
