/**
 * An ECharts chart as a React component, with only the pieces the dashboard uses loaded
 * (line charts, grid, tooltip, legend, canvas renderer) to keep the bundle small. The
 * colours come from the app's CSS variables, so the charts follow the light/dark theme.
 */
import { LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { useEffect, useRef, useState, type JSX } from 'react';

echarts.use([LineChart, GridComponent, TooltipComponent, LegendComponent, CanvasRenderer]);

export type ChartOption = echarts.EChartsCoreOption;

export interface ChartTheme {
  text: string;
  muted: string;
  grid: string;
  palette: string[];
  background: string;
  danger: string;
}

function readTheme(): ChartTheme {
  const style = getComputedStyle(document.documentElement);
  const variable = (name: string, fallback: string): string => style.getPropertyValue(name).trim() || fallback;
  return {
    text: variable('--text', '#1f2328'),
    muted: variable('--text-muted', '#6e7781'),
    grid: variable('--border', '#d0d7de'),
    background: variable('--surface', '#ffffff'),
    danger: variable('--danger', '#d1242f'),
    palette: [1, 2, 3, 4, 5, 6, 7, 8, 9].map((index) => variable(`--chart-${index}`, '#4f46e5')),
  };
}

/** Follows the OS theme: the app's variables change with prefers-color-scheme. */
export function useChartTheme(): ChartTheme {
  const [theme, setTheme] = useState<ChartTheme>(() => readTheme());
  useEffect(() => {
    const query = window.matchMedia('(prefers-color-scheme: dark)');
    const update = (): void => setTheme(readTheme());
    query.addEventListener('change', update);
    return () => query.removeEventListener('change', update);
  }, []);
  return theme;
}

export interface ChartClick {
  seriesName: string;
  dataIndex: number;
}

export function EChartView({
  option,
  label,
  height = 240,
  points,
  onSelect,
}: {
  option: ChartOption;
  label: string;
  height?: number;
  points: number;
  /** Called when a data point or area is clicked. */
  onSelect?: (click: ChartClick) => void;
}): JSX.Element {
  const element = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);
  const selectHandler = useRef(onSelect);
  selectHandler.current = onSelect;

  useEffect(() => {
    if (!element.current) return;
    chart.current = echarts.init(element.current, null, { renderer: 'canvas' });
    chart.current.on('click', (event) => {
      const click = event as { seriesName?: string; dataIndex?: number };
      if (click.seriesName !== undefined && click.dataIndex !== undefined) selectHandler.current?.({ seriesName: click.seriesName, dataIndex: click.dataIndex });
    });
    const observer = new ResizeObserver(() => chart.current?.resize());
    observer.observe(element.current);
    return () => {
      observer.disconnect();
      chart.current?.dispose();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    chart.current?.setOption(option, { notMerge: true });
  }, [option]);

  return <div ref={element} className={`chart ${onSelect ? 'clickable' : ''}`} style={{ height }} role="img" aria-label={label} data-points={points} />;
}
