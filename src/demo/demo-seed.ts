import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { INestApplication } from '@nestjs/common';
import { TenantDb } from '../database/tenant-db';
import { DirectoryService } from '../directory/directory.service';

export interface DemoTenant {
  tenantId: string;
  customerIds: [string, string];
  instanceId: string;
  proxyKey: string;
  apiKey: string;
}

/**
 * Seeds the demo tenant once (embedded mode only). Its keys are kept in .data/demo.json so every
 * start can print them: that folder already holds this machine's generated secrets and is never
 * committed. Real deployments see a key once, at creation.
 */
export async function ensureDemoTenant(
  app: INestApplication,
  dataDir: string,
): Promise<DemoTenant> {
  const file = join(dataDir, 'demo.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as DemoTenant;

  const directory = app.get(DirectoryService);
  const tenant = await directory.createTenant('Demo Lettings');
  const demo = await app.get(TenantDb).run(tenant.id, async () => {
    const harbour = await directory.createCustomer(tenant.id, 'Harbour Property Management');
    const northgate = await directory.createCustomer(tenant.id, 'Northgate Estates');
    await directory.createPerson(tenant.id, harbour.id, {
      name: 'Ada Lovelace',
      email: 'ada@harbour.example',
      phone: '+447700900123',
    });
    await directory.createPerson(tenant.id, northgate.id, {
      name: 'Grace Hopper',
      phone: '+447700900456',
    });
    const instance = await directory.createInstance(tenant.id, 'Front desk agent');
    const proxy = await directory.createProxyKey(tenant.id, instance.id);
    const apiKey = await directory.createApiKey(tenant.id, {
      name: 'Demo dashboard',
      role: 'admin',
    });
    return {
      tenantId: tenant.id,
      customerIds: [harbour.id, northgate.id] as [string, string],
      instanceId: instance.id,
      proxyKey: proxy.key,
      apiKey: apiKey.key,
    };
  });
  writeFileSync(file, JSON.stringify(demo, null, 2), { mode: 0o600 });
  return demo;
}
