/* Backorder ETA block: on variant change, show that variant's text, already rendered in the page. */
(function () {
  'use strict';
  function texts(block) {
    var data = document.querySelector('script[data-backorder-eta-variants="' + block.dataset.productId + '"]');
    try { return data ? JSON.parse(data.textContent) : {}; } catch (e) { return {}; }
  }
  function show(block, variantId) {
    var entry = texts(block)[String(variantId)];
    var line = block.querySelector('[data-backorder-eta-line]');
    var window_ = block.querySelector('[data-backorder-eta-window]');
    if (!entry || !entry.line) { block.hidden = true; return; }
    block.hidden = false;
    block.className = 'backorder-eta backorder-eta--' + (entry.status || 'none');
    line.textContent = entry.line;
    if (window_) { window_.textContent = entry.window || ''; }
  }
  function currentVariant() {
    var input = document.querySelector('form[action*="/cart/add"] [name="id"]');
    if (input && input.value) { return input.value; }
    return new URL(window.location.href).searchParams.get('variant');
  }
  function update() {
    var id = currentVariant();
    if (!id) { return; }
    document.querySelectorAll('[data-backorder-eta]').forEach(function (block) { show(block, id); });
  }
  document.addEventListener('change', function (event) {
    if (event.target.closest && event.target.closest('form[action*="/cart/add"], variant-selects, variant-radios')) {
      window.setTimeout(update, 0); /* after the theme has set the form's variant id */
    }
  });
  document.addEventListener('variant:change', update);
  window.addEventListener('popstate', update);
  window.BackorderEta = { update: update, show: show };
})();
