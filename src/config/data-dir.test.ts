import { describe, expect, it } from 'vitest';
import { dataPaths, resolveDataDir } from './data-dir.js';
import { ConfigError } from './load.js';

describe('resolveDataDir', () => {
  it('prefers --data, then $TANDEM_DATA, then ./data, made absolute against cwd', () => {
    expect(resolveDataDir({ flag: 'd1', env: { TANDEM_DATA: '/srv/t' }, cwd: '/home/op' })).toBe('/home/op/d1');
    expect(resolveDataDir({ flag: '/abs', env: {}, cwd: '/home/op' })).toBe('/abs');
    expect(resolveDataDir({ env: { TANDEM_DATA: 'rel/../t' }, cwd: '/home/op' })).toBe('/home/op/t');
    expect(resolveDataDir({ env: { TANDEM_DATA: '/srv/t/' }, cwd: '/home/op' })).toBe('/srv/t');
    expect(resolveDataDir({ env: {}, cwd: '/home/op' })).toBe('/home/op/data');
  });

  it('treats an empty $TANDEM_DATA as unset but refuses an empty --data', () => {
    expect(resolveDataDir({ env: { TANDEM_DATA: '' }, cwd: '/w' })).toBe('/w/data');
    expect(() => resolveDataDir({ flag: '', env: {}, cwd: '/w' })).toThrow(ConfigError);
  });
});

describe('dataPaths', () => {
  it('names every file inside the data directory', () => {
    expect(dataPaths('/srv/tandem/', {})).toEqual({
      dir: '/srv/tandem',
      config: '/srv/tandem/config.json',
      sqlite: '/srv/tandem/tandem.db',
      masterKey: '/srv/tandem/master.key',
      caCert: '/srv/tandem/ca.pem',
      caKey: '/srv/tandem/ca.key',
      serverCert: '/srv/tandem/server.pem',
      serverKey: '/srv/tandem/server.key',
    });
  });

  it('takes the master key from $TANDEM_MASTER_KEY_FILE, which must be absolute', () => {
    expect(dataPaths('/srv/tandem', { TANDEM_MASTER_KEY_FILE: '/etc/tandem/../keys/master.key' }).masterKey).toBe('/etc/keys/master.key');
    expect(dataPaths('/srv/tandem', { TANDEM_MASTER_KEY_FILE: '' }).masterKey).toBe('/srv/tandem/master.key');
    expect(() => dataPaths('/srv/tandem', { TANDEM_MASTER_KEY_FILE: 'keys/master.key' })).toThrow('TANDEM_MASTER_KEY_FILE: must be an absolute path');
  });
});
