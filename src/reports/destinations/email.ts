/**
 * Email through SMTP (nodemailer). The export is attached when it is small enough, linked
 * otherwise. A refused or unreachable server is an error for the run to record, never a crash.
 */
import nodemailer from 'nodemailer';

export interface SmtpSettings {
  /** smtp://user:pass@host:port or smtps://… */
  readonly url: string;
  readonly from: string;
  /** Socket timeouts: an unreachable server fails the delivery, it does not hang the run. */
  readonly timeoutMs: number;
}

export interface EmailMessage {
  readonly to: readonly string[];
  readonly subject: string;
  readonly text: string;
  readonly attachment?: { readonly filename: string; readonly path: string; readonly contentType: string };
}

export interface Mailer {
  send(message: EmailMessage): Promise<{ messageId: string }>;
  close(): void;
}

export function createMailer(settings: SmtpSettings): Mailer {
  const u = new URL(settings.url);
  const transport = nodemailer.createTransport({
    host: u.hostname,
    port: Number(u.port) || (u.protocol === 'smtps:' ? 465 : 587),
    secure: u.protocol === 'smtps:',
    auth: u.username ? { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) } : undefined,
    connectionTimeout: settings.timeoutMs,
    greetingTimeout: settings.timeoutMs,
    socketTimeout: settings.timeoutMs,
  });
  return {
    async send(m) {
      const info = await transport.sendMail({
        from: settings.from,
        to: [...m.to],
        subject: m.subject,
        text: m.text,
        attachments: m.attachment ? [{ filename: m.attachment.filename, path: m.attachment.path, contentType: m.attachment.contentType }] : [],
      });
      return { messageId: String(info.messageId) };
    },
    close: () => transport.close(),
  };
}
