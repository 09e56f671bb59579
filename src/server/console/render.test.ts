import { describe, expect, it } from 'vitest';
import { escapeHtml, html, Html } from './render.js';

describe('html', () => {
  it('escapes every interpolated string, number and array element; nests Html as is', () => {
    const name = `<script>alert("x")</script>&'\``;
    const out = html`<p title="${name}">${name}${[name, 1]}${html`<b>${'<i>'}</b>`}</p>`.toString();
    expect(out).toBe('<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;&#96;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;&#96;'
      + '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;&#96;1<b>&lt;i&gt;</b></p>');
  });

  it('drops null, undefined and booleans; refuses objects', () => {
    expect(html`${null}${undefined}${false}${true}`.toString()).toBe('');
    expect(() => html`${{ toString: () => '<b>' } as unknown as string}`).toThrow(TypeError);
  });

  it('cannot be made from a string', () => {
    expect(() => new Html(Symbol('html'), '<b>')).toThrow();
  });

  it('shows control characters, bidi overrides and lone surrogates as U+FFFD, keeps line breaks', () => {
    expect(escapeHtml('a\u0000b\u202ec\ud800d\ne\tf')).toBe('a\ufffdb\ufffdc\ufffdd\ne\tf');
  });
});
