import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { TORCH } from '../../test/support/fixtures.ts';
import { cacheKey, formatCacheKey, localFileName, parseCacheKey, ReservedJobIdError, rewriteMegaCacheKey } from './cache-key.ts';
import { codeIdText } from './code-id.ts';
import { crc32, fileHash } from './file-hash.ts';

describe('cache keys, as get_cache_key and code_state_path make them', () => {
  it('job:rank:tag with None for no rank', () => {
    assert.equal(cacheKey({ job: 'fixture', rank: null, tag: '' }), 'fixture:None:');
    assert.equal(cacheKey({ job: 'fixture2', rank: 1, tag: '' }), 'fixture2:1:');
    assert.deepEqual(parseCacheKey('team/job:7:None:v2'), { job: 'team/job:7', rank: null, tag: 'v2' });
    assert.throws(() => parseCacheKey('nope'), /not a PGO cache key/);
  });
  it('a cache_key_tag may hold colons: format_cache_key writes it as it is (torch/_dynamo/pgo.py v2.11.0)', () => {
    // f"{key}:{rank}:{tag}" with torch.compiler.config.cache_key_tag any str: read back whole
    for (const k of [
      { job: 'job', rank: null, tag: 'exp:v2' },
      { job: 'team/job:7', rank: 3, tag: 'a:b:c' },
      { job: 'job', rank: 0, tag: ':' },
    ]) assert.deepEqual(parseCacheKey(cacheKey(k)), k);
    // a tag without a colon is still read as before where a job id holds what looks like a rank
    assert.deepEqual(parseCacheKey('a:1:b:2:c'), { job: 'a:1:b', rank: 2, tag: 'c' });
  });
  it('refuses mast: job ids as PyTorch does', () => {
    assert.throws(() => cacheKey({ job: 'mast:x', rank: null, tag: '' }), ReservedJobIdError);
  });
  it("keys PyTorch makes itself may start with mast: (get_cache_key's MAST branch, get_extra_cache_key): formatted and parsed back", () => {
    const k = { job: 'mast:trainer:7', rank: 3, tag: '' };
    assert.equal(formatCacheKey(k), 'mast:trainer:7:3:');
    assert.deepEqual(parseCacheKey(formatCacheKey(k)), k);
  });
  it('the local file name replaces <>:"/\\|?* by _ (the fixture files PyTorch wrote)', () => {
    const names = readdirSync(join(TORCH, 'local'));
    assert.ok(names.includes(localFileName('fixture:None:')));
    assert.ok(names.includes(localFileName('team/job:7:None:v2')));
    assert.equal(localFileName('a<b>c"d\\e|f?g*h:None:'), 'code_state_a_b_c_d_e_f_g_h_None_.pkl');
  });
  it('mega-cache keys: mast: keys become the loading job’s key, others stay', () => {
    assert.equal(rewriteMegaCacheKey('mast:name:3:None:', 'mine:None:'), 'mine:None:');
    assert.equal(rewriteMegaCacheKey('mast:name:3:None:', null), 'mast:name:3:None:');
    assert.equal(rewriteMegaCacheKey('fixture:None:', 'mine:None:'), 'fixture:None:');
  });
});

describe('code ids and file hashes', () => {
  it('file_hash is the CRC32 of the file (the fixtures’ scripts), or the path itself', () => {
    assert.equal(fileHash('/srv/train/train.py', readFileSync(join(TORCH, 'train.py'))), 'd02731e6');
    assert.equal(fileHash('/srv/train/train2.py', readFileSync(join(TORCH, 'train2.py'))), 'e6c5f2f9');
    assert.equal(fileHash('/no/such/file.py', undefined), '/no/such/file.py');
    assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  });
  it('text form', () => {
    assert.equal(codeIdText({ filename: '/srv/train/train.py', firstlineno: 24, name: 'f', file_hash: 'd02731e6' }), 'hash(d02731e6)/srv/train/train.py:24:f');
  });
});
