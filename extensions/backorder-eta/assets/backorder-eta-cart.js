/* Backorder ETA app embed: the ship date under each backordered cart line, from the page's own data. */
(function () {
  'use strict';
  var data = document.querySelector('script[data-backorder-eta-cart]');
  if (!data) { return; }
  var items;
  try { items = JSON.parse(data.textContent); } catch (e) { return; }
  var unplaced = [];
  Object.keys(items).forEach(function (key) {
    var item = items[key];
    if (!item.line) { return; }
    var link = document.querySelector('a[href*="variant=' + item.variant + '"]');
    var row = link && (link.closest('tr, li, .cart-item, [data-cart-item]') || link.parentElement);
    if (!row) { unplaced.push(item); return; }
    var note = document.createElement('p');
    note.className = 'backorder-eta backorder-eta--backorder backorder-eta--cart';
    note.textContent = item.line;
    row.appendChild(note);
  });
  var form = document.querySelector('form[action$="/cart"]');
  if (unplaced.length && form) {
    var box = document.createElement('div');
    box.className = 'backorder-eta backorder-eta--notice';
    unplaced.forEach(function (item) {
      var p = document.createElement('p');
      p.textContent = item.title + ': ' + item.line;
      box.appendChild(p);
    });
    form.parentNode.insertBefore(box, form);
  }
})();
