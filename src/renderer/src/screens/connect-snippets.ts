/** The Connect screen's snippets: each client's setup with the real base URL and a key filled in. */
export interface Snippet {
  id: string;
  label: string;
  language: string;
  note: string;
  code: (baseUrl: string, key: string, model: string) => string;
}

export const SNIPPETS: Snippet[] = [
  {
    id: 'python',
    label: 'OpenAI SDK · Python',
    language: 'python',
    note: 'pip install openai',
    code: (baseUrl, key, model) => `from openai import OpenAI

client = OpenAI(base_url="${baseUrl}", api_key="${key}")
reply = client.chat.completions.create(
    model="${model}",
    messages=[{"role": "user", "content": "Hello"}],
)
print(reply.choices[0].message.content)`,
  },
  {
    id: 'typescript',
    label: 'OpenAI SDK · TypeScript',
    language: 'typescript',
    note: 'npm install openai',
    code: (baseUrl, key, model) => `import OpenAI from 'openai';

const client = new OpenAI({ baseURL: '${baseUrl}', apiKey: '${key}' });
const reply = await client.chat.completions.create({
  model: '${model}',
  messages: [{ role: 'user', content: 'Hello' }],
});
console.log(reply.choices[0].message.content);`,
  },
  {
    id: 'curl',
    label: 'curl',
    language: 'bash',
    note: 'Streaming with tags; drop "stream" for one JSON answer.',
    code: (baseUrl, key, model) => `curl ${baseUrl}/chat/completions \\
  -H "Authorization: Bearer ${key}" \\
  -H "Content-Type: application/json" \\
  -H "x-tags: team:platform" \\
  -d '{"model":"${model}","stream":true,"messages":[{"role":"user","content":"Hello"}]}'`,
  },
  {
    id: 'langchain',
    label: 'LangChain',
    language: 'python',
    note: 'pip install langchain-openai',
    code: (baseUrl, key, model) => `from langchain_openai import ChatOpenAI

llm = ChatOpenAI(model="${model}", base_url="${baseUrl}", api_key="${key}")
print(llm.invoke("Hello").content)`,
  },
  {
    id: 'vercel-ai',
    label: 'Vercel AI SDK',
    language: 'typescript',
    note: 'npm install ai @ai-sdk/openai-compatible',
    code: (baseUrl, key, model) => `import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { generateText } from 'ai';

const switchyard = createOpenAICompatible({ name: 'switchyard', baseURL: '${baseUrl}', apiKey: '${key}' });
const { text } = await generateText({ model: switchyard('${model}'), prompt: 'Hello' });
console.log(text);`,
  },
  {
    id: 'continue',
    label: 'Continue',
    language: 'yaml',
    note: 'In ~/.continue/config.yaml',
    code: (baseUrl, key, model) => `models:
  - name: Switchyard ${model}
    provider: openai
    model: ${model}
    apiBase: ${baseUrl}
    apiKey: ${key}`,
  },
  {
    id: 'cline',
    label: 'Cline',
    language: 'text',
    note: 'Cline settings → API Provider',
    code: (baseUrl, key, model) => `API Provider:  OpenAI Compatible
Base URL:      ${baseUrl}
API Key:       ${key}
Model ID:      ${model}`,
  },
  {
    id: 'aider',
    label: 'Aider',
    language: 'bash',
    note: 'Any model name Switchyard routes works after openai/',
    code: (baseUrl, key, model) => `export OPENAI_API_BASE=${baseUrl}
export OPENAI_API_KEY=${key}
aider --model openai/${model}`,
  },
  {
    id: 'environment',
    label: 'Environment',
    language: 'bash',
    note: 'For any tool that reads the OpenAI variables',
    code: (baseUrl, key) => `export OPENAI_BASE_URL=${baseUrl}
export OPENAI_API_KEY=${key}`,
  },
];
