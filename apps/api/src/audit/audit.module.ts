import { Global, Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { AuditController } from './audit.controller.js';
import { AuditService } from './audit.service.js';

/** Global: every feature records its changes. */
@Global()
@Module({ imports: [AuthModule], controllers: [AuditController], providers: [AuditService], exports: [AuditService] })
export class AuditModule {}
