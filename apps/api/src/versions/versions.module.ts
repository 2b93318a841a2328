import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { PluginsModule } from '../plugins/plugins.module.js';
import { PoliciesModule } from '../policies/policies.module.js';
import { ModuleAdmissions } from './module-admissions.js';
import { VersionTestsRunner } from './version-tests.runner.js';
import { VersionsController } from './versions.controller.js';
import { VersionsService } from './versions.service.js';

@Module({
  imports: [AuthModule, PluginsModule, PoliciesModule],
  controllers: [VersionsController],
  providers: [VersionsService, VersionTestsRunner, ModuleAdmissions],
  exports: [VersionsService, VersionTestsRunner, ModuleAdmissions],
})
export class VersionsModule {}
