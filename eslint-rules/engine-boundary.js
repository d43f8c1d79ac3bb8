// The rooms of DESIGN.md ("Boundaries") and what each may import:
// - src-main/engine is pure Node shared by every host: no Electron, no host code;
// - only src-main/app and src-preload may import Electron;
// - the renderer sees neither Node nor main: only its own files, the contract in src-shared, and
//   browser packages.
import { builtinModules } from 'node:module';
import path from 'node:path';

const MAIN = path.join('src-main');
const ENGINE = path.join('src-main', 'engine');
const RENDERER = 'src-renderer';
const HOSTS = ['app', 'cli', 'web', 'service'].map((dir) => path.join('src-main', dir));
const ELECTRON_ALLOWED = [path.join('src-main', 'app'), 'src-preload'];
const NODE_BUILTINS = new Set(builtinModules);

const inside = (file, dir) => {
  const rel = path.relative(path.resolve(dir), file);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
};

const isElectron = (source) => source === 'electron' || source.startsWith('electron/');
const isNodeBuiltin = (source) => source.startsWith('node:') || NODE_BUILTINS.has(source.split('/')[0]);

export default {
  meta: {
    type: 'problem',
    docs: { description: "keep each part of the app to what DESIGN.md lets it import" },
    messages: {
      electron: "src-main/engine must not import '{{source}}': the engine is pure Node (DESIGN.md).",
      electronOutsideApp: "only src-main/app and src-preload may import '{{source}}' (DESIGN.md).",
      host: "src-main/engine must not import '{{source}}' from {{host}}: hosts depend on the engine, never the reverse.",
      rendererNode: "the renderer must not import '{{source}}': it only talks to window.chat (DESIGN.md).",
      rendererMain: "the renderer must not import '{{source}}': only src-shared crosses the boundary (DESIGN.md).",
    },
    schema: [],
  },
  create(context) {
    const file = path.resolve(context.filename);
    const inEngine = inside(file, ENGINE);
    const inRenderer = inside(file, RENDERER);
    const electronAllowed = ELECTRON_ALLOWED.some((dir) => inside(file, dir));
    if (!inEngine && !inRenderer && (electronAllowed || !inside(file, MAIN))) return {};

    const check = (node, source) => {
      if (typeof source !== 'string') return;
      if (isElectron(source)) {
        context.report({ node, messageId: inEngine ? 'electron' : inRenderer ? 'rendererNode' : 'electronOutsideApp', data: { source } });
        return;
      }
      if (inRenderer) {
        if (isNodeBuiltin(source)) context.report({ node, messageId: 'rendererNode', data: { source } });
        else if (source.startsWith('.') && (inside(path.resolve(path.dirname(file), source), MAIN) || inside(path.resolve(path.dirname(file), source), 'src-preload'))) {
          context.report({ node, messageId: 'rendererMain', data: { source } });
        }
        return;
      }
      if (!inEngine || !source.startsWith('.')) return;
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
