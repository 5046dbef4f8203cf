/** The storage the config asks for: the `s3` bucket when that section is set, else files under the data dir. */
import path from 'node:path';
import type { ReelayConfig } from '../../config/schema.ts';
import { FileStorage } from './files.ts';
import { createS3Storage } from './s3.ts';
import type { ObjectStorage } from './types.ts';

export function openStorage(config: ReelayConfig): ObjectStorage {
  if (config.s3) return createS3Storage(config.s3);
  return new FileStorage(path.join(config.data_dir, 'objects'));
}
