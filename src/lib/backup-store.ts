/** tsredis-ops/backup-store: the interface backups are kept behind, and the stores that implement it. */
export { openStore, type BackupStore, type ObjectInfo, type PutOptions, type PutResult, type StoreOptions, type SweepOptions } from '../backup/store/store.js';
export { LocalStore } from '../backup/store/local-store.js';
