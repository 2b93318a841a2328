-- CreateIndex
CREATE INDEX "invocations_tenant_id_finished_at_idx" ON "invocations"("tenant_id", "finished_at");
