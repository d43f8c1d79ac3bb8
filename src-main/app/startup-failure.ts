// What the error dialog says when the app cannot start: a sentence in the user's language (pt-BR
// or English) first, then what to try, and the raw detail last, for a bug report.

const STRINGS = {
  en: {
    title: 'ChatP2P could not start',
    folder: (path: string) => `ChatP2P could not use its files in ${path}.`,
    noSpace: 'The disk is full.',
    noPermission: 'It is not allowed to read or write there.',
    generic: 'Something went wrong while ChatP2P was starting.',
    next: 'It will close now. Open it again; if this keeps happening, send the details below to the ChatP2P team.',
    details: 'Details',
  },
  'pt-BR': {
    title: 'O ChatP2P não pôde iniciar',
    folder: (path: string) => `O ChatP2P não conseguiu usar seus arquivos em ${path}.`,
    noSpace: 'O disco está cheio.',
    noPermission: 'Ele não tem permissão para ler ou gravar ali.',
    generic: 'Algo deu errado enquanto o ChatP2P iniciava.',
    next: 'Ele será fechado agora. Abra-o de novo; se isso continuar acontecendo, envie os detalhes abaixo à equipe do ChatP2P.',
    details: 'Detalhes',
  },
};

/** `dataDir`: where the app keeps its files, named when a system call on a file failed. */
export function startupFailureDialog(error: unknown, locale: string, dataDir: string): { title: string; content: string } {
  const t = locale.toLowerCase().startsWith('pt') ? STRINGS['pt-BR'] : STRINGS.en;
  const { code, path, syscall } = (typeof error === 'object' && error !== null ? error : {}) as NodeJS.ErrnoException;
  const detail = error instanceof Error ? error.message : String(error);
  const reason = code === 'ENOSPC' ? t.noSpace : code === 'EACCES' || code === 'EPERM' || code === 'EROFS' ? t.noPermission : undefined;
  const fileProblem = typeof code === 'string' && typeof syscall === 'string';
  const headline = fileProblem ? [t.folder(path ?? dataDir), reason].filter(Boolean).join(' ') : t.generic;
  return { title: t.title, content: `${headline}\n\n${t.next}\n\n${t.details}: ${detail}` };
}
