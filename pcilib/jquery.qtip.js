// jquery.qtip - the part of qTip2's jQuery plugin TAO's PCIs use (Outpost's own,
// pcilib/README.md): $(target).qtip({content: {text}, show, hide, position, events: {render}})
// makes a tooltip (role="tooltip", the target aria-describedby it) shown on the `show` events
// and hidden on the `hide` events; $(target).qtip('show' | 'hide' | 'toggle' | 'destroy' |
// 'api'). Escape hides a tooltip shown.
define(['taoQtiItem/portableLib/jquery_2_1_1'], function ($) {
  'use strict';
  let next = 0;
  const events = (v, dflt) => {
    if (v === false) return '';
    if (typeof v === 'string') return v;
    if (v && typeof v.event === 'string') return v.event;
    return dflt;
  };

  function Tip(target, options) {
    const o = options || {};
    const $target = $(target);
    const id = `qtip-${++next}`;
    const content = o.content && typeof o.content === 'object' && !(o.content instanceof $) ? o.content.text : o.content;
    const $tip = $('<div>', { id, role: 'tooltip', class: `qtip qtip-default ${(o.style && o.style.classes) || ''}` })
      .css({ position: 'absolute', zIndex: 1000, maxWidth: '20em' })
      .attr('aria-hidden', 'true')
      .hide();
    const $body = $('<div>', { class: 'qtip-content' }).appendTo($tip);
    if (typeof content === 'function') $body.html(content.call(target));
    else if (content instanceof $ || (content && content.nodeType)) $body.append($(content).clone(true).show());
    else $body.html(content === undefined || content === null ? $target.attr('title') || '' : String(content));
    $tip.appendTo(document.body);
    if (!$target.attr('aria-describedby')) $target.attr('aria-describedby', id);
    const api = {
      elements: { tooltip: $tip, target: $target, content: $body },
      shown: false,
      reposition() {
        const r = target.getBoundingClientRect();
        const top = r.bottom + window.scrollY + ((o.position && o.position.adjust && o.position.adjust.y) || 0);
        const left = Math.max(0, r.left + window.scrollX + r.width / 2 - $tip.outerWidth() / 2);
        $tip.css({ top: `${top}px`, left: `${left}px` });
        return api;
      },
      show() {
        if (api.shown) return api;
        api.shown = true;
        $tip.show().attr('aria-hidden', 'false');
        api.reposition();
        $tip.trigger('tooltipshow', [api]);
        return api;
      },
      hide() {
        if (!api.shown) return api;
        api.shown = false;
        $tip.hide().attr('aria-hidden', 'true');
        $tip.trigger('tooltiphide', [api]);
        return api;
      },
      toggle(state) { return (state === undefined ? !api.shown : state) ? api.show() : api.hide(); },
      destroy() {
        $target.off('.qtip').removeData('qtip');
        if ($target.attr('aria-describedby') === id) $target.removeAttr('aria-describedby');
        $tip.remove();
      },
      set() { return api; },
    };
    const on = events(o.show, 'mouseenter');
    const off = events(o.hide, 'mouseleave');
    if (on) $target.on(on.split(/\s+/).map((e) => `${e}.qtip`).join(' '), () => api.show());
    if (off) $target.on(off.split(/\s+/).map((e) => `${e}.qtip`).join(' '), () => api.hide());
    $target.on('keydown.qtip', (ev) => { if (ev.key === 'Escape') api.hide(); });
    if (o.events && typeof o.events.render === 'function') o.events.render.call(target, $.Event('tooltiprender'), api);
    if (o.events && typeof o.events.show === 'function') $tip.on('tooltipshow', o.events.show);
    if (o.events && typeof o.events.hide === 'function') $tip.on('tooltiphide', o.events.hide);
    return api;
  }

  $.fn.qtip = function qtip(options) {
    if (typeof options === 'string') {
      const api = this.first().data('qtip');
      if (options === 'api') return api;
      this.each(function () {
        const a = $(this).data('qtip');
        if (a && typeof a[options] === 'function') a[options]();
      });
      return this;
    }
    return this.each(function () {
      const old = $(this).data('qtip');
      if (old) old.destroy();
      $(this).data('qtip', new Tip(this, options));
    });
  };
  return $.fn.qtip;
});
