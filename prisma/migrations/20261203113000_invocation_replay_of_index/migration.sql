-- CreateIndex
CREATE INDEX "invocations_tenant_id_replay_of_idx" ON "invocations"("tenant_id", "replay_of");
