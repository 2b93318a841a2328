-- AlterTable
ALTER TABLE "invocations" ADD COLUMN     "dead_lettered_at" TIMESTAMPTZ(3),
ADD COLUMN     "replay_of" UUID;

-- CreateIndex
CREATE INDEX "invocations_tenant_id_dead_lettered_at_idx" ON "invocations"("tenant_id", "dead_lettered_at");
