// The engine is pure Node shared by the desktop app, the terminal client and the browser host,
// so it may import neither Electron nor any of those hosts (DESIGN.md, "Boundaries").
import path from 'node:path';

const ENGINE = path.join('src-main', 'engine');
const HOSTS = ['app', 'cli', 'web'].map((dir) => path.join('src-main', dir));

const inside = (file, dir) => {
  const rel = path.relative(path.resolve(dir), file);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
};

export default {
  meta: {
    type: 'problem',
    docs: { description: 'keep src-main/engine free of Electron and of the app, cli and web hosts' },
    messages: {
      electron: "src-main/engine must not import '{{source}}': the engine is pure Node (DESIGN.md).",
      host: "src-main/engine must not import '{{source}}' from {{host}}: hosts depend on the engine, never the reverse.",
    },
    schema: [],
  },
  create(context) {
    const file = path.resolve(context.filename);
    if (!inside(file, ENGINE)) return {};
    const check = (node, source) => {
      if (typeof source !== 'string') return;
      if (source === 'electron' || source.startsWith('electron/')) {
        context.report({ node, messageId: 'electron', data: { source } });
        return;
      }
      if (!source.startsWith('.')) return;
      const target = path.resolve(path.dirname(file), source);
      const host = HOSTS.find((dir) => inside(target, dir));
      if (host) context.report({ node, messageId: 'host', data: { source, host } });
    };
    const fromSource = (node) => node.source && check(node, node.source.value);
    return {
      ImportDeclaration: fromSource,
      ExportNamedDeclaration: fromSource,
      ExportAllDeclaration: fromSource,
      ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value),
      CallExpression: (node) => {
        const [arg] = node.arguments;
        if (node.callee.type === 'Identifier' && node.callee.name === 'require' && arg?.type === 'Literal') {
          check(node, arg.value);
        }
      },
    };
  },
};
