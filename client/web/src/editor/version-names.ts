// A version's name in the reader's language. Named versions keep the name people gave them;
// the server names the ones it makes itself in English ("Automatic checkpoint", "Before
// restoring X"), so those are told apart by their kind and said again in the interface's words.
import { t } from '../i18n'
import type { Version } from '../types'

const BACKUP_PREFIX = 'Before restoring '

export function versionName(version: Version): string {
  if (version.kind === 'auto') return t('versions.auto_name')
  if (version.kind === 'restore-backup' && version.name.startsWith(BACKUP_PREFIX)) {
    return t('versions.backup_name', { name: version.name.slice(BACKUP_PREFIX.length) })
  }
  return version.name
}
