import { Injectable } from '@nestjs/common';
import { type Tenant, TenantRepository } from '@airlock/db';
import type { z } from 'zod';
import { notFound } from '../validation/id-param.pipe.js';
import { readListPage } from '../validation/list-page.js';
import { type createTenantSchema, type listTenantsQuerySchema, type TenantView, toTenantView } from './tenant.schema.js';

@Injectable()
export class TenantsService {
  constructor(private readonly tenants: TenantRepository) {}

  create(input: z.output<typeof createTenantSchema>): Promise<Tenant> {
    return this.tenants.create(input);
  }

  list(query: z.output<typeof listTenantsQuerySchema>): Promise<{ items: TenantView[]; nextCursor: string | null }> {
    return readListPage(query, (page) => this.tenants.list(page), toTenantView);
  }

  async get(id: string): Promise<Tenant> {
    const tenant = await this.tenants.findById(id);
    if (tenant === null) throw notFound('tenant');
    return tenant;
  }
}
