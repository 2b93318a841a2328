-- AlterTable
ALTER TABLE "invocations" ADD COLUMN     "last_attempt_fuel" BIGINT;
