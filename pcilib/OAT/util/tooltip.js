// OAT/util/tooltip - tooltips of a PCI's rich content (Outpost's own, pcilib/README.md): each
// [data-role="tooltip-target"] whose aria-describedby names an element of the container shows
// that element's content on hover, focus and click; Escape hides it.
define(['taoQtiItem/portableLib/jquery_2_1_1', 'taoQtiItem/portableLib/jquery.qtip'], function ($) {
  'use strict';
  return {
    render($container) {
      const $c = $($container);
      $c.find('[data-role="tooltip-target"]').each(function () {
        const $target = $(this);
        const contentId = $target.attr('aria-describedby') || $target.attr('aria-describedBy');
        const $content = contentId ? $c.find(`#${$.escapeSelector(contentId)}`) : $();
        if (!$content.length) return;
        $content.attr('role', 'tooltip').hide();
        if ($target.attr('tabindex') === undefined) $target.attr('tabindex', 0);
        $target.qtip({ content: { text: $content.html() }, show: 'mouseover focus', hide: 'mouseout blur' });
        $target.attr('aria-describedby', contentId);
        $target.on('click.qtip', () => $target.qtip('toggle'));
      });
      return $c;
    },
  };
});
