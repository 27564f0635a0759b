// handlebars - Debian's Handlebars (libjs-handlebars, loaded before this module as
// outpost/handlebars-upstream) with a `compile` that needs no eval (Outpost's own,
// pcilib/README.md). Handlebars' compile writes JavaScript and makes a function of it, which
// the frame's CSP forbids ('unsafe-eval' is not given to package code); this compile reads the
// template with Handlebars' own parser and walks its parse tree each time the template runs,
// with Handlebars' own helpers (if, unless, each, with, lookup, log) and escaping.
//
// What a template can use: {{path}} and {{{raw}}}, paths with this, ../ (each block one level,
// as in Handlebars 1.3, which TAO gives its PCIs) and @data (@index,
// @key, @first, @last, @root), block params (as |x i|), literals, hash arguments,
// subexpressions, helpers (registerHelper, the template's options.helpers), block helpers
// with fn/inverse and {{else}} chains, sections over values without a helper (Handlebars'
// blockHelperMissing), partials (registerPartial, options.partials). Decorators are not run.
// Like Handlebars' default, only a value's own properties are read.
define(['outpost/handlebars-upstream'], function (Handlebars) {
  'use strict';
  const own = (obj, key) => (obj !== null && obj !== undefined && Object.prototype.hasOwnProperty.call(Object(obj), key) ? obj[key] : undefined);
  const noop = () => '';
  const scopedRe = /^(\.|this\b)/;

  function compileWith(env, input, compileOptions) {
    const copts = compileOptions || {};
    let ast = null;
    const tree = () => {
      if (!ast) ast = input && input.type === 'Program' ? input : env.parse(String(input));
      return ast;
    };

    function lookupPath(path, scope) {
      let obj;
      let parts = path.parts;
      if (path.data) {
        obj = scope.data;
        for (let i = 0; i < path.depth && obj; i++) obj = obj._parent;
      } else {
        const bp = !path.depth && parts.length && !scopedRe.test(path.original) ? blockParam(parts[0], scope) : null;
        if (bp) {
          obj = bp.value;
          parts = parts.slice(1);
        } else {
          obj = path.depth ? scope.depths[path.depth] : scope.ctx;
        }
      }
      for (const part of parts) obj = own(obj, part);
      return obj;
    }
    function blockParam(name, scope) {
      for (const [values, names] of scope.bps) {
        const i = names.indexOf(name);
        if (i >= 0) return { value: values[i] };
      }
      return null;
    }
    function evalExpr(node, scope) {
      switch (node.type) {
        case 'StringLiteral': case 'NumberLiteral': case 'BooleanLiteral': return node.value;
        case 'UndefinedLiteral': return undefined;
        case 'NullLiteral': return null;
        case 'PathExpression': return lookupPath(node, scope);
        case 'SubExpression': return call(node, scope, null);
        default: throw new Handlebars.Exception(`Unsupported expression ${node.type}`, node);
      }
    }
    function hashOf(node, scope) {
      const hash = {};
      if (node.hash) for (const pair of node.hash.pairs) hash[pair.key] = evalExpr(pair.value, scope);
      return hash;
    }
    function program(prog, scope) {
      if (!prog) return noop;
      return function (context, options) {
        const o = options || {};
        // every block is one level for ../, as in Handlebars 1.3, the version TAO gives its
        // PCIs and writes their templates for ({{#if x}}{{../y}}{{/if}} reads y beside x)
        const depths = [context].concat(scope.depths);
        const bps = prog.blockParams ? [[o.blockParams || [], prog.blockParams]].concat(scope.bps) : scope.bps;
        return run(prog, { ctx: context, depths, data: o.data || scope.data, bps, helpers: scope.helpers, partials: scope.partials });
      };
    }
    // A mustache, block or subexpression: a helper's answer, else the value of its path.
    function call(node, scope, block) {
      const path = node.path;
      const name = path.type === 'PathExpression' ? path.original : String(path.value);
      const simple = path.type !== 'PathExpression' ||
        (path.parts.length === 1 && !path.data && !path.depth && !scopedRe.test(path.original) && !blockParam(path.parts[0], scope));
      const key = path.type === 'PathExpression' ? path.parts[0] : name;
      const options = {
        name,
        hash: hashOf(node, scope),
        data: scope.data,
        loc: node.loc,
        lookupProperty: own,
      };
      if (block) {
        options.fn = program(block.program, scope);
        options.inverse = program(block.inverse, scope);
        if (block.program && block.program.blockParams) options.blockParams = block.program.blockParams.length;
      }
      const params = (node.params || []).map((p) => evalExpr(p, scope));
      const helper = simple ? own(scope.helpers, key) : undefined;
      if (typeof helper === 'function') return helper.apply(scope.ctx, params.concat(options));
      if (params.length || (node.hash && node.hash.pairs.length)) {
        const f = path.type === 'PathExpression' ? lookupPath(path, scope) : undefined;
        if (typeof f === 'function') return f.apply(scope.ctx, params.concat(options));
        throw new Handlebars.Exception(`Missing helper: "${name}"`, node);
      }
      let value = path.type === 'PathExpression' ? lookupPath(path, scope) : path.value;
      if (typeof value === 'function') value = value.call(scope.ctx, options);
      if (block) return scope.helpers.blockHelperMissing.call(scope.ctx, value, options);
      return value;
    }
    function partial(node, scope) {
      const name = node.name.type === 'SubExpression' ? call(node.name, scope, null) : node.name.original || String(node.name.value);
      let p = own(scope.partials, name);
      if (p === undefined && node.type === 'PartialBlockStatement') p = program(node.program, scope);
      if (p === undefined) throw new Handlebars.Exception(`The partial ${name} could not be found`, node);
      if (typeof p === 'string') p = compileWith(env, p, copts);
      let ctx = node.params && node.params.length ? evalExpr(node.params[0], scope) : scope.ctx;
      const hash = hashOf(node, scope);
      if (Object.keys(hash).length) ctx = Object.assign({}, ctx, hash);
      return p(ctx, { data: scope.data, helpers: scope.helpers, partials: scope.partials });
    }
    function run(prog, scope) {
      let out = '';
      for (const node of prog.body) {
        switch (node.type) {
          case 'ContentStatement': out += node.value; break;
          case 'CommentStatement': case 'Decorator': case 'DecoratorBlock': break;
          case 'MustacheStatement': {
            const v = call(node, scope, null);
            out += node.escaped && !copts.noEscape ? env.escapeExpression(v) : v === null || v === undefined ? '' : String(v);
            break;
          }
          case 'BlockStatement': {
            const v = call(node, scope, node);
            out += v === null || v === undefined ? '' : String(v);
            break;
          }
          case 'PartialStatement': case 'PartialBlockStatement': out += partial(node, scope); break;
          default: throw new Handlebars.Exception(`Unsupported statement ${node.type}`, node);
        }
      }
      return out;
    }

    return function template(context, options) {
      const o = options || {};
      let data = o.data;
      if (!data || !('root' in data)) {
        data = data ? Handlebars.createFrame(data) : {};
        data.root = context;
      }
      const helpers = Object.assign({}, env.helpers, o.helpers);
      const partials = Object.assign({}, env.partials, o.partials);
      return run(tree(), { ctx: context, depths: [context], data, bps: o.blockParams ? [[o.blockParams, []]] : [], helpers, partials });
    };
  }

  function patch(env) {
    env.compile = (input, options) => {
      if (input === null || input === undefined || (typeof input !== 'string' && input.type !== 'Program')) {
        throw new Handlebars.Exception(`You must pass a string or Handlebars AST to Handlebars.compile. You passed ${input}`);
      }
      return compileWith(env, input, options);
    };
    const create = env.create;
    if (typeof create === 'function') env.create = () => patch(create());
    return env;
  }
  return patch(Handlebars);
});
