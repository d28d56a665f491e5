import { describe, expect, it } from 'vitest'
import { createMarkdownRenderer } from '../../utils/markdown'

const render = createMarkdownRenderer()
const TABLE = [
  '| Planta | Potencia | Variación | Nota |',
  '|:---|---:|:---:|---|',
  '| Antofagasta | 1.234,5 MW | +3,4 % | Normal |',
  '| Copiapó | 980 | -12 | Revisar 2 turbinas |',
].join('\n')

// issue 13.4: answers that fit a phone (alignment survives the sanitiser, which drops style attributes)
describe('markdown tables', () => {
  it('column alignment from the separator row becomes a class, not a style attribute', () => {
    const html = render(TABLE)
    expect(html).not.toContain('style=')
    expect(html).toContain('<th class="md-align-right">Potencia</th>')
    expect(html).toContain('<td class="md-align-center">+3,4 %</td>')
    expect(html).toContain('<td class="md-align-left">Antofagasta</td>')
  })

  it('numeric cells of an unaligned column are marked to align right; text cells are not', () => {
    const html = render('| a | b |\n|---|---|\n| 42 | uno |\n| 1.200,50 | $ 3.000 |\n| 12 MW | 7 % |')
    expect(html).toContain('<td class="md-num">42</td>')
    expect(html).toContain('<td class="md-num">1.200,50</td>')
    expect(html).toContain('<td class="md-num">$ 3.000</td>')
    expect(html).toContain('<td class="md-num">12 MW</td>')
    expect(html).toContain('<td class="md-num">7 %</td>')
    expect(html).toContain('<td>uno</td>')
    expect(html).not.toMatch(/<th class="md-num"/)
  })
})
