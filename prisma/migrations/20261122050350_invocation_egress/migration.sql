-- AlterTable
ALTER TABLE "invocations" ADD COLUMN     "egress_bytes" BIGINT NOT NULL DEFAULT 0;
