import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { PoliciesModule } from '../policies/policies.module.js';
import { PluginsController } from './plugins.controller.js';
import { PluginsService } from './plugins.service.js';

@Module({ imports: [AuthModule, PoliciesModule], controllers: [PluginsController], providers: [PluginsService], exports: [PluginsService] })
export class PluginsModule {}
